//go:build e2e

package cluster

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// startMetricsServer serves reg on 127.0.0.1 and returns host:port.
func startMetricsServer(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("metrics server: %v", err)
		}
	})
	return l.Addr().String()
}

func TestPrometheusScrapesRegisteredTarget(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "nerve_e2e_harness_value", Help: "value set by the e2e test"})
	reg.MustRegister(g)
	g.Set(42.5)
	addr := startMetricsServer(t, reg)

	job := "e2e-cluster-" + time.Now().Format("150405.000000")
	framework.RegisterScrapeTarget(t, job, addr, map[string]string{"area": "cluster"})
	q := `nerve_e2e_harness_value{job="` + job + `",area="cluster"}`
	got := framework.WaitForPromSeries(t, q)
	if len(got) != 1 || got[0].Value != 42.5 {
		t.Fatalf("query %s = %+v, want one series with value 42.5", q, got)
	}
	if got[0].Metric["instance"] != addr {
		t.Errorf("instance label %q, want %q", got[0].Metric["instance"], addr)
	}

	g.Set(7)
	base := framework.PrometheusURL(t)
	framework.Eventually(t, 20*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		s, err := framework.PromQuery(ctx, base, q)
		return err == nil && len(s) == 1 && s[0].Value == 7, err
	}, "Prometheus to see the gauge change to 7")
}
