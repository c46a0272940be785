//go:build e2e

package prometheus

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/host"
)

// pluginBinary is the plugin under test, as `make build` lays it out.
const pluginBinary = "nerve-prometheus"

// target is a scrape target on 127.0.0.1 exposing a gauge and a histogram the test controls.
type target struct {
	job   string
	gauge *promclient.GaugeVec
	hist  *promclient.HistogramVec
	addr  string
}

// startTarget serves /metrics on 127.0.0.1 and registers it with the local Prometheus under a
// unique job name.
func startTarget(t *testing.T) *target {
	t.Helper()
	reg := promclient.NewRegistry()
	tg := &target{
		job: "nerve-e2e-prom-" + randHex(4),
		gauge: promclient.NewGaugeVec(promclient.GaugeOpts{Name: "nerve_e2e_value", Help: "a value the e2e test sets"},
			[]string{"case"}),
		hist: promclient.NewHistogramVec(promclient.HistogramOpts{Name: "nerve_e2e_latency_seconds", Help: "an e2e histogram",
			Buckets: []float64{.001, .0025, .005, .01}}, []string{"case"}),
	}
	reg.MustRegister(tg.gauge, tg.hist)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	tg.addr = l.Addr().String()
	framework.RegisterScrapeTarget(t, tg.job, tg.addr, nil)
	return tg
}

// sel returns the selector of one case's gauge series.
func (tg *target) sel(c string) string {
	return fmt.Sprintf(`nerve_e2e_value{job=%q,case=%q}`, tg.job, c)
}

// waitValue waits until Prometheus has scraped the case's gauge with want (NaN matches NaN).
func (tg *target) waitValue(t *testing.T, c string, want float64) {
	t.Helper()
	base := framework.PrometheusURL(t)
	framework.Eventually(t, 60*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		s, err := framework.PromQuery(ctx, base, tg.sel(c))
		if err != nil || len(s) != 1 {
			return false, err
		}
		got := s[0].Value
		return got == want || (math.IsNaN(got) && math.IsNaN(want)), nil
	}, "Prometheus to scrape %s = %v", tg.sel(c), want)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startProvider starts the real plugin binary through plugins/host (sha256-verified, lazily
// started, real go-plugin handshake and net/rpc+gob) under name, with args.
func startProvider(t *testing.T, name string, args ...string) plugins.MetricProvider {
	t.Helper()
	bin := framework.Binary(t, pluginBinary)
	sum, err := host.FileSHA256(bin)
	if err != nil {
		t.Fatalf("sha256 %s: %v", bin, err)
	}
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- host and plugin logs ---\n%s", logs.String())
		}
	})
	h := host.New(host.Options{CallTimeout: 60 * time.Second, WorkDir: t.TempDir(),
		Logger: hclog.New(&hclog.LoggerOptions{Name: "e2e-host", Output: logs, Level: hclog.Debug})})
	t.Cleanup(h.Close)
	h.SetRegistry(host.Registry{MetricProviders: []host.Entry{{Name: name, Kind: plugins.KindMetricProvider,
		Location: "file://" + bin, SHA256: sum, Args: args}}})
	p, err := h.MetricProvider(t.Context(), name)
	if err != nil {
		t.Fatalf("start plugin %s: %v", name, err)
	}
	if err := p.InitPlugin(t.Context()); err != nil {
		t.Fatalf("InitPlugin: %v", err)
	}
	return p
}

// syncBuffer collects host and plugin logs; they are printed when a test fails.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// metric builds an AnalysisTemplate metric for the plugin called name.
func metric(t *testing.T, name string, cfg map[string]any, success, failure string) v1alpha1.Metric {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("marshal config: %v", err)
	}
	return v1alpha1.Metric{Name: "e2e", SuccessCondition: success, FailureCondition: failure,
		Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{name: raw}}}
}

// measure runs one measurement over the wire and checks its shape.
func measure(t *testing.T, p plugins.MetricProvider, m v1alpha1.Metric) v1alpha1.Measurement {
	t.Helper()
	meas, err := p.Run(t.Context(), &v1alpha1.AnalysisRun{}, m)
	if err != nil {
		t.Fatalf("Run over the wire: %v", err)
	}
	if meas.StartedAt == nil || meas.FinishedAt == nil {
		t.Fatalf("measurement without StartedAt/FinishedAt: %+v", meas)
	}
	t.Logf("measurement: phase=%s value=%q message=%q", meas.Phase, meas.Value, meas.Message)
	return meas
}

func expect(t *testing.T, m v1alpha1.Measurement, phase v1alpha1.AnalysisPhase, value string, parts ...string) {
	t.Helper()
	if m.Phase != phase || (value != "" && m.Value != value) {
		t.Fatalf("got %s value %q (%s); want %s value %q", m.Phase, m.Value, m.Message, phase, value)
	}
	for _, p := range parts {
		if !strings.Contains(m.Message, p) {
			t.Fatalf("message %q lacks %q", m.Message, p)
		}
	}
}

// closedPort returns a 127.0.0.1 address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return addr
}

// silentListener accepts connections on 127.0.0.1 and never answers: a hung Prometheus.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	conns := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := l.Accept()
			if errors.Is(err, net.ErrClosed) || err != nil {
				return
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		for {
			select {
			case c := <-conns:
				_ = c.Close()
			default:
				return
			}
		}
	})
	return l.Addr().String()
}
