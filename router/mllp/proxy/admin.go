package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// maxRouteWait caps the long poll of GET /route?after=.
const maxRouteWait = time.Minute

// routeHandler serves GET /route: the route this replica routes with now,
// as JSON (service, generation, weight, maxWeight, ready). With ?after=G it
// answers as soon as a route with a generation above G is applied, waiting
// up to ?wait= (Go duration, default and maximum 1m; then the current route
// is returned): a long poll that tells a tool the moment a change reached
// this replica's routing decisions.
func routeHandler(p *Proxy) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ar, ok := p.Applied()
		if a := q.Get("after"); a != "" {
			after, err := strconv.ParseInt(a, 10, 64)
			if err != nil {
				http.Error(w, "query parameter after: want a route generation (integer)", http.StatusBadRequest)
				return
			}
			wait := maxRouteWait
			if ws := q.Get("wait"); ws != "" {
				if wait, err = time.ParseDuration(ws); err != nil || wait <= 0 || wait > maxRouteWait {
					http.Error(w, "query parameter wait: want a Go duration above 0 and at most 1m", http.StatusBadRequest)
					return
				}
			}
			ctx, cancel := context.WithTimeout(r.Context(), wait)
			defer cancel()
			ar, ok = p.WaitApplied(ctx, after)
		}
		if !ok {
			http.Error(w, "no route applied yet", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ar)
	}
}
