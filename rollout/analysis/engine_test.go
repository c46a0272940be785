package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

// fakeProvider returns the phases queued for it and records the metrics it saw.
type fakeProvider struct {
	mu     sync.Mutex
	phases []v1alpha1.AnalysisPhase
	seen   []v1alpha1.Metric
	gc     int
}

func (f *fakeProvider) InitPlugin(context.Context) error     { return nil }
func (f *fakeProvider) Type(context.Context) (string, error) { return "fake", nil }
func (f *fakeProvider) Run(_ context.Context, _ *v1alpha1.AnalysisRun, m v1alpha1.Metric) (v1alpha1.Measurement, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, m)
	if len(f.phases) == 0 {
		return v1alpha1.Measurement{}, errors.New("no more values")
	}
	p := f.phases[0]
	f.phases = f.phases[1:]
	return v1alpha1.Measurement{Phase: p, Value: "1", Message: "measured " + string(p)}, nil
}
func (f *fakeProvider) Resume(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, m v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	return m, nil
}
func (f *fakeProvider) Terminate(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, m v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	return m, nil
}
func (f *fakeProvider) GarbageCollect(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, int) error {
	f.gc++
	return nil
}
func (f *fakeProvider) GetMetadata(context.Context, v1alpha1.Metric) (map[string]string, error) {
	return nil, nil
}

type providers map[string]plugins.MetricProvider

func (p providers) Has(_ plugins.Kind, n string) bool { _, ok := p[n]; return ok }
func (p providers) MetricProvider(_ context.Context, n string) (plugins.MetricProvider, error) {
	return p[n], nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func metric(name string) v1alpha1.Metric {
	return v1alpha1.Metric{Name: name, Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"t/fake": json.RawMessage(`{"q":"x{s=\"{{args.svc}}\"}"}`)}}}
}

func newRun(ms ...v1alpha1.Metric) *v1alpha1.AnalysisRun {
	return &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns"},
		Spec: v1alpha1.AnalysisRunSpec{Metrics: ms, Args: []v1alpha1.Argument{{Name: "svc", Value: ptr.To("api")}}}}
}

// drive reconciles until the run completes (or n rounds), advancing the clock by the requeue.
func drive(t *testing.T, e *Engine, c *clock, run *v1alpha1.AnalysisRun, n int) *v1alpha1.AnalysisRun {
	t.Helper()
	for i := 0; i < n && !run.Status.Phase.Completed(); i++ {
		res := e.Reconcile(context.Background(), run)
		run = res.Run
		c.t = c.t.Add(max(res.RequeueAfter, time.Millisecond))
	}
	return run
}

func TestEngineLimits(t *testing.T) {
	S, F, I, E := v1alpha1.AnalysisPhaseSuccessful, v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseInconclusive, v1alpha1.AnalysisPhaseError
	cases := []struct {
		name   string
		mutate func(*v1alpha1.Metric)
		values []v1alpha1.AnalysisPhase
		want   v1alpha1.AnalysisPhase
		calls  int
	}{
		{"no interval measures once", func(*v1alpha1.Metric) {}, []v1alpha1.AnalysisPhase{S}, S, 1},
		{"count 3 successful", func(m *v1alpha1.Metric) { m.Interval, m.Count = "1s", ptr.To(intstr.FromInt32(3)) }, []v1alpha1.AnalysisPhase{S, S, S}, S, 3},
		{"failureLimit 0 fails on first failure", func(m *v1alpha1.Metric) { m.Interval, m.Count = "1s", ptr.To(intstr.FromInt32(3)) }, []v1alpha1.AnalysisPhase{S, F}, F, 2},
		{"failureLimit 2 tolerates two", func(m *v1alpha1.Metric) {
			m.Interval, m.Count, m.FailureLimit = "1s", ptr.To(intstr.FromInt32(4)), ptr.To(intstr.FromInt32(2))
		}, []v1alpha1.AnalysisPhase{F, F, S, S}, S, 4},
		{"failureLimit 2 trips on the third", func(m *v1alpha1.Metric) {
			m.Interval, m.Count, m.FailureLimit = "1s", ptr.To(intstr.FromInt32(5)), ptr.To(intstr.FromInt32(2))
		}, []v1alpha1.AnalysisPhase{F, F, F}, F, 3},
		{"seed metric without interval can never fail with failureLimit 3", func(m *v1alpha1.Metric) { m.FailureLimit = ptr.To(intstr.FromInt32(3)) }, []v1alpha1.AnalysisPhase{F}, S, 1},
		{"failureLimit -1 with consecutiveSuccessLimit: failures do not count", func(m *v1alpha1.Metric) {
			m.Interval, m.Count, m.FailureLimit = "1s", ptr.To(intstr.FromInt32(3)), ptr.To(intstr.FromInt32(-1))
			m.ConsecutiveSuccessLimit = ptr.To(intstr.FromInt32(2))
		}, []v1alpha1.AnalysisPhase{F, S, S}, S, 3},
		{"inconclusive", func(m *v1alpha1.Metric) {}, []v1alpha1.AnalysisPhase{I}, I, 1},
		{"errors beyond consecutiveErrorLimit 4", func(m *v1alpha1.Metric) { m.Interval = "1s" }, []v1alpha1.AnalysisPhase{E, E, E, E, E}, E, 5},
		{"errors reset by a success", func(m *v1alpha1.Metric) { m.Interval, m.Count = "1s", ptr.To(intstr.FromInt32(2)) }, []v1alpha1.AnalysisPhase{E, E, E, S, E, S}, S, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := metric("m")
			c.mutate(&m)
			fp := &fakeProvider{phases: c.values}
			clk := &clock{t: time.Unix(1000, 0)}
			e := &Engine{Providers: providers{"t/fake": fp}, Now: clk.now}
			run := drive(t, e, clk, newRun(m), 50)
			if run.Status.Phase != c.want || len(fp.seen) != c.calls {
				t.Fatalf("phase %s after %d calls (message %q), want %s after %d", run.Status.Phase, len(fp.seen), run.Status.Message, c.want, c.calls)
			}
			if strings.Contains(string(fp.seen[0].Provider.Plugin["t/fake"]), "{{") {
				t.Fatalf("args not substituted: %s", fp.seen[0].Provider.Plugin["t/fake"])
			}
		})
	}
}

func TestEngineErrorRetryInterval(t *testing.T) {
	m := metric("m")
	m.Interval = "1m"
	fp := &fakeProvider{phases: []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseError}}
	clk := &clock{t: time.Unix(1000, 0)}
	e := &Engine{Providers: providers{"t/fake": fp}, Now: clk.now}
	res := e.Reconcile(context.Background(), newRun(m))
	if res.RequeueAfter != DefaultErrorRetryInterval {
		t.Fatalf("requeue after an error = %s, want %s", res.RequeueAfter, DefaultErrorRetryInterval)
	}
}

func TestEngineRunPhaseIsWorstAndDryRun(t *testing.T) {
	a, b := metric("a"), metric("b")
	fpA := &fakeProvider{phases: []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseSuccessful}}
	clk := &clock{t: time.Unix(1000, 0)}
	b.Provider.Plugin = map[string]json.RawMessage{"t/other": json.RawMessage(`{}`)}
	fpB := &fakeProvider{phases: []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseFailed}}
	e := &Engine{Providers: providers{"t/fake": fpA, "t/other": fpB}, Now: clk.now}
	run := drive(t, e, clk, newRun(a, b), 10)
	if run.Status.Phase != v1alpha1.AnalysisPhaseFailed || !strings.Contains(run.Status.Message, `Metric "b" assessed Failed due to failed (1) > failureLimit (0)`) {
		t.Fatalf("phase %s message %q", run.Status.Phase, run.Status.Message)
	}
	fpA.phases, fpB.phases = []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseSuccessful}, []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseFailed}
	dry := newRun(a, b)
	dry.Spec.DryRun = []v1alpha1.DryRun{{MetricName: "b"}}
	run = drive(t, e, clk, dry, 10)
	if run.Status.Phase != v1alpha1.AnalysisPhaseSuccessful || run.Status.DryRunSummary == nil || run.Status.DryRunSummary.Failed != 1 {
		t.Fatalf("dry-run: phase %s summary %+v", run.Status.Phase, run.Status.DryRunSummary)
	}
}

// TestEngineDryRunRulesAreRegularExpressions: `.*` dry-runs every metric (a failing metric no
// longer fails the run) and a rule that matches no metric errors the run with Argo's message.
func TestEngineDryRunRulesAreRegularExpressions(t *testing.T) {
	a, b := metric("a"), metric("b")
	b.Provider.Plugin = map[string]json.RawMessage{"t/other": json.RawMessage(`{}`)}
	fpA := &fakeProvider{phases: []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseFailed}}
	fpB := &fakeProvider{phases: []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseFailed}}
	clk := &clock{t: time.Unix(1000, 0)}
	e := &Engine{Providers: providers{"t/fake": fpA, "t/other": fpB}, Now: clk.now}
	all := newRun(a, b)
	all.Spec.DryRun = []v1alpha1.DryRun{{MetricName: ".*"}}
	run := drive(t, e, clk, all, 10)
	if run.Status.Phase != v1alpha1.AnalysisPhaseSuccessful || run.Status.DryRunSummary == nil || run.Status.DryRunSummary.Failed != 2 {
		t.Fatalf("dryRun .*: phase %s summary %+v", run.Status.Phase, run.Status.DryRunSummary)
	}
	none := newRun(a, b)
	none.Spec.DryRun = []v1alpha1.DryRun{{MetricName: "a"}, {MetricName: "cpu"}}
	run = drive(t, e, clk, none, 10)
	if run.Status.Phase != v1alpha1.AnalysisPhaseError || run.Status.Message != "Analysis spec invalid: dryRun[1]: Rule didn't match any metric name(s)" {
		t.Fatalf("unmatched rule: phase %s message %q", run.Status.Phase, run.Status.Message)
	}
}

// TestEngineMessagesAsArgo: Argo's message rules — a metric's message is its last measurement's
// message (taken when the metric's phase changes), the run's message names the breached limit and
// embeds the metric's message, and a dry-run metric's message names what it would have done.
func TestEngineMessagesAsArgo(t *testing.T) {
	m := metric("m")
	m.Interval, m.Count = "1s", ptr.To(intstr.FromInt32(3))
	fp := &fakeProvider{phases: []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseSuccessful, v1alpha1.AnalysisPhaseFailed}}
	clk := &clock{t: time.Unix(1000, 0)}
	e := &Engine{Providers: providers{"t/fake": fp}, Now: clk.now}
	run := drive(t, e, clk, newRun(m), 10)
	want := `Metric "m" assessed Failed due to failed (1) > failureLimit (0): "Error Message: measured Failed"`
	if run.Status.Message != want || run.Status.MetricResults[0].Message != "measured Failed" {
		t.Fatalf("run message %q, metric message %q; want %q and %q", run.Status.Message, run.Status.MetricResults[0].Message, want, "measured Failed")
	}
	fp.phases = []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseSuccessful, v1alpha1.AnalysisPhaseSuccessful, v1alpha1.AnalysisPhaseSuccessful}
	run = drive(t, e, clk, newRun(m), 10)
	if run.Status.Phase != v1alpha1.AnalysisPhaseSuccessful || run.Status.Message != "" || run.Status.MetricResults[0].Message != "measured Successful" {
		t.Fatalf("successful run: phase %s message %q metric message %q", run.Status.Phase, run.Status.Message, run.Status.MetricResults[0].Message)
	}
	fp.phases = []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseFailed}
	dry := newRun(metric("d"))
	dry.Spec.DryRun = []v1alpha1.DryRun{{MetricName: "d"}}
	run = drive(t, e, clk, dry, 10)
	if got := run.Status.MetricResults[0].Message; got != "Metric assessed Failed due to failed (1) > failureLimit (0)" || run.Status.Message != "" {
		t.Fatalf("dry-run metric message %q, run message %q", got, run.Status.Message)
	}
}

func TestBuiltinProviderRewrittenToPlugin(t *testing.T) {
	m := v1alpha1.Metric{Name: "p", Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Address: "http://p", Query: `up{s="{{args.svc}}"}`}}}
	fp := &fakeProvider{phases: []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseSuccessful}}
	clk := &clock{t: time.Unix(1000, 0)}
	e := &Engine{Providers: providers{"nerve/prometheus": fp}, Now: clk.now}
	run := drive(t, e, clk, newRun(m), 5)
	if run.Status.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("phase %s: %s", run.Status.Phase, run.Status.Message)
	}
	got := string(fp.seen[0].Provider.Plugin["nerve/prometheus"])
	if !strings.Contains(got, `"address":"http://p"`) || !strings.Contains(got, `up{s=\"api\"}`) {
		t.Fatalf("plugin config %s", got)
	}
}

func TestMissingProviderIsANamedError(t *testing.T) {
	m := v1alpha1.Metric{Name: "d", Provider: v1alpha1.MetricProvider{Other: map[string]json.RawMessage{"datadog": json.RawMessage(`{}`)}}}
	clk := &clock{t: time.Unix(1000, 0)}
	e := &Engine{Providers: providers{}, Now: clk.now}
	res := e.Reconcile(context.Background(), newRun(m))
	r := res.Run.Status.MetricResults[0]
	if r.Measurements[0].Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(r.Measurements[0].Message, `metric "d": provider datadog is not run by nerve: register a metric provider plugin named "nerve/datadog"`) {
		t.Fatalf("measurement %+v", r.Measurements[0])
	}
}

func TestTerminate(t *testing.T) {
	m := metric("m")
	m.Interval = "1s"
	fp := &fakeProvider{phases: []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseSuccessful}}
	clk := &clock{t: time.Unix(1000, 0)}
	e := &Engine{Providers: providers{"t/fake": fp}, Now: clk.now}
	run := e.Reconcile(context.Background(), newRun(m)).Run
	run.Spec.Terminate = true
	run = e.Reconcile(context.Background(), run).Run
	if run.Status.Phase != v1alpha1.AnalysisPhaseSuccessful || run.Status.Message != "Run Terminated" {
		t.Fatalf("terminated run: %s %q", run.Status.Phase, run.Status.Message)
	}
}

func TestRetention(t *testing.T) {
	m := metric("m")
	m.Interval, m.Count = "1s", ptr.To(intstr.FromInt32(5))
	fp := &fakeProvider{}
	for range 5 {
		fp.phases = append(fp.phases, v1alpha1.AnalysisPhaseSuccessful)
	}
	clk := &clock{t: time.Unix(1000, 0)}
	e := &Engine{Providers: providers{"t/fake": fp}, Now: clk.now}
	run := newRun(m)
	run.Spec.MeasurementRetention = []v1alpha1.MeasurementRetention{{MetricName: "m", Limit: 2}}
	run = drive(t, e, clk, run, 20)
	if n := len(run.Status.MetricResults[0].Measurements); n != 2 || run.Status.MetricResults[0].Count != 5 || fp.gc == 0 {
		t.Fatalf("%d measurements kept (count %d, gc %d)", n, run.Status.MetricResults[0].Count, fp.gc)
	}
}
