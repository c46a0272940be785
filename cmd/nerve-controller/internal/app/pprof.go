//go:build pprof

package app

import (
	"net/http"
	"net/http/pprof"
)

// debugHandlers serves /debug/pprof/ on the metrics server; only in binaries built with
// `-tags pprof` (profiling the controller's memory and CPU), never in the shipped one.
func debugHandlers(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}
