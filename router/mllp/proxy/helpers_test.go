package proxy

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
)

type harness struct {
	p      *Proxy
	reg    *prometheus.Registry
	addr   string
	stable *mllptest.Backend
	canary *mllptest.Backend
}

func newBackend(t *testing.T, opts mllptest.BackendOptions) *mllptest.Backend {
	t.Helper()
	opts.Record = true
	b, err := mllptest.NewBackend(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// newHarness starts a proxy on 127.0.0.1 with stable and canary backends.
func newHarness(t *testing.T, popts Options, stable, canary mllptest.BackendOptions, cfg RouteConfig) *harness {
	t.Helper()
	h := &harness{reg: prometheus.NewRegistry()}
	stable.Name, canary.Name = "stable", "canary"
	h.stable, h.canary = newBackend(t, stable), newBackend(t, canary)
	m, err := NewMetrics(h.reg)
	if err != nil {
		t.Fatal(err)
	}
	popts.Metrics = m
	if popts.AckTimeout == 0 {
		popts.AckTimeout = 2 * time.Second
	}
	h.p, err = New(popts)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Service == "" {
		cfg.Service = "mllp-listener"
	}
	if cfg.Stable == nil {
		cfg.Stable = []string{h.stable.Addr()}
	}
	if cfg.Canary == nil {
		cfg.Canary = []string{h.canary.Addr()}
	}
	if _, err := h.p.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = ln.Addr().String()
	go func() { _ = h.p.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = h.p.Drain(ctx)
	})
	return h
}

func (h *harness) counter(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	switch name {
	case "received":
		return testutil.ToFloat64(h.p.opts.Metrics.received.WithLabelValues(labels...))
	case "errors":
		return testutil.ToFloat64(h.p.opts.Metrics.errors.WithLabelValues(labels...))
	case "fallbacks":
		return testutil.ToFloat64(h.p.opts.Metrics.fallbacks.WithLabelValues(labels...))
	case "acks":
		return testutil.ToFloat64(h.p.opts.Metrics.acks.WithLabelValues(labels...))
	case "mirror":
		return testutil.ToFloat64(h.p.opts.Metrics.mirror.WithLabelValues(labels...))
	}
	t.Fatalf("unknown counter %s", name)
	return 0
}

func dial(t *testing.T, addr string) *mllptest.Client {
	t.Helper()
	c, err := mllptest.Dial(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout = 5 * time.Second
	t.Cleanup(func() { _ = c.Close() })
	return c
}
