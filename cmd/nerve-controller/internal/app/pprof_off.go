//go:build !pprof

package app

import "net/http"

// debugHandlers adds nothing: the profiling endpoints exist only in `-tags pprof` builds.
func debugHandlers(*http.ServeMux) {}
