package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func getRoute(t *testing.T, url string) (AppliedRoute, int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var ar AppliedRoute
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&ar); err != nil {
			t.Fatal(err)
		}
	}
	return ar, resp.StatusCode
}

func TestRouteEndpointLongPoll(t *testing.T) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(routeHandler(p))
	defer srv.Close()
	if _, code := getRoute(t, srv.URL+"/route"); code != http.StatusServiceUnavailable {
		t.Fatalf("before the first Apply: status %d, want 503", code)
	}
	if _, err := p.Apply(RouteConfig{Generation: 1, Service: "svc", Weight: 5, Stable: []string{"127.0.0.1:1"}}); err != nil {
		t.Fatal(err)
	}
	if ar, code := getRoute(t, srv.URL+"/route"); code != http.StatusOK ||
		ar != (AppliedRoute{Service: "svc", Generation: 1, Weight: 5, MaxWeight: 100, Ready: true}) {
		t.Fatalf("status %d route %+v", code, ar)
	}
	got := make(chan AppliedRoute, 1)
	go func() { ar, _ := getRoute(t, srv.URL+"/route?after=1&wait=10s"); got <- ar }()
	select {
	case ar := <-got:
		t.Fatalf("long poll answered before a newer generation was applied: %+v", ar)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := p.Apply(RouteConfig{Generation: 2, Service: "svc", Weight: 30, Stable: []string{"127.0.0.1:1"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case ar := <-got:
		if ar.Generation != 2 || ar.Weight != 30 {
			t.Fatalf("long poll returned %+v, want generation 2 weight 30", ar)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long poll not woken by Apply")
	}
	if ar, code := getRoute(t, srv.URL+"/route?after=9&wait=20ms"); code != http.StatusOK || ar.Generation != 2 {
		t.Fatalf("timed-out long poll: status %d route %+v, want the current route", code, ar)
	}
	for _, q := range []string{"?after=x", "?after=1&wait=2m", "?after=1&wait=soon"} {
		if _, code := getRoute(t, srv.URL+"/route"+q); code != http.StatusBadRequest {
			t.Fatalf("%s: status %d, want 400", q, code)
		}
	}
}
