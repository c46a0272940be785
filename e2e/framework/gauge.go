//go:build e2e

package framework

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// StartGaugeTarget serves a gauge named metric on 127.0.0.1 and registers it with the local
// Prometheus as scrape job `job` (removed when the test ends). It returns the gauge, which the
// test sets, and a selector of its series.
func StartGaugeTarget(t *testing.T, metric, job string) (promclient.Gauge, string) {
	t.Helper()
	reg := promclient.NewRegistry()
	g := promclient.NewGauge(promclient.GaugeOpts{Name: metric, Help: "a value the e2e test sets"})
	reg.MustRegister(g)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	RegisterScrapeTarget(t, job, l.Addr().String(), nil)
	return g, fmt.Sprintf("%s{job=%q}", metric, job)
}

// WaitForPromValue waits until Prometheus returns exactly one sample equal to want for query.
func WaitForPromValue(t *testing.T, query string, want float64) {
	t.Helper()
	base := PrometheusURL(t)
	Eventually(t, 60*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		got, err := PromQuery(ctx, base, query)
		return err == nil && len(got) == 1 && got[0].Value == want, err
	}, "Prometheus to scrape %s = %v", query, want)
}
