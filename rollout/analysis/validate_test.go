package analysis

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// TestValidateMetricArgoMessages: each refused metric gets Argo's ValidateMetrics wording
// (utils/analysis/factory.go in v1.10.0), checked in Argo's order.
func TestValidateMetricArgoMessages(t *testing.T) {
	n := func(i int32) *intstr.IntOrString { return ptr.To(intstr.FromInt32(i)) }
	cases := []struct {
		name   string
		mutate func(*v1alpha1.Metric)
		want   string
	}{
		{"valid", func(*v1alpha1.Metric) {}, ""},
		{"count without interval", func(m *v1alpha1.Metric) { m.Count = n(2) }, "metrics[0]: interval must be specified when count > 1"},
		{"count 1 without interval is fine", func(m *v1alpha1.Metric) { m.Count = n(1) }, ""},
		{"bad interval", func(m *v1alpha1.Metric) { m.Interval = "5x" }, `metrics[0]: invalid interval string: time: unknown unit "x" in duration "5x"`},
		{"bad initialDelay", func(m *v1alpha1.Metric) { m.InitialDelay = "soon" }, `metrics[0]: invalid startDelay string: time: invalid duration "soon"`},
		{"negative consecutiveErrorLimit", func(m *v1alpha1.Metric) { m.ConsecutiveErrorLimit = n(-1) }, "metrics[0]: consecutiveErrorLimit must be >= 0"},
		{"failureLimit below -1", func(m *v1alpha1.Metric) { m.FailureLimit = n(-2) }, "metrics[0]: failureLimit must be >= 0, or -1 to be disabled"},
		{"both limits disabled", func(m *v1alpha1.Metric) { m.FailureLimit = n(-1) }, "metrics[0]: failureLimit and consecutiveSuccessLimit cannot both be disabled"},
		{"negative consecutiveSuccessLimit", func(m *v1alpha1.Metric) { m.ConsecutiveSuccessLimit = n(-1) }, "metrics[0]: consecutiveSuccessLimit must be >= 0"},
		{"negative inconclusiveLimit", func(m *v1alpha1.Metric) { m.InconclusiveLimit = n(-1) }, "metrics[0]: inconclusiveLimit must be >= 0"},
		{"count below the limits", func(m *v1alpha1.Metric) { m.Interval, m.Count, m.FailureLimit = "1s", n(2), n(3) },
			"metrics[0]: count (2) must be >= failureLimit + consecutiveSuccessLimit (3 + 0) if both >= 0"},
		{"count below consecutiveSuccessLimit", func(m *v1alpha1.Metric) {
			m.Interval, m.Count, m.FailureLimit, m.ConsecutiveSuccessLimit = "1s", n(2), n(-1), n(3)
		}, "metrics[0]: count must be >= consecutiveSuccessLimit"},
		{"count below inconclusiveLimit", func(m *v1alpha1.Metric) { m.Interval, m.Count, m.InconclusiveLimit = "1s", n(2), n(3) },
			"metrics[0]: count must be >= inconclusiveLimit"},
		{"no provider", func(m *v1alpha1.Metric) { m.Provider = v1alpha1.MetricProvider{} }, "metrics[0]: no provider specified"},
		{"two providers", func(m *v1alpha1.Metric) { m.Provider.Web = &v1alpha1.WebMetric{} }, "metrics[0]: multiple providers specified"},
		{"two plugins", func(m *v1alpha1.Metric) { m.Provider.Plugin["t/other"] = json.RawMessage(`{}`) }, "metrics[0]: multiple providers specified"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := metric("m")
			c.mutate(&m)
			err := ValidateMetrics([]v1alpha1.Metric{m})
			if got := errString(err); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
	if got := errString(ValidateMetrics(nil)); got != "no metrics specified" {
		t.Fatalf("no metrics: %q", got)
	}
	if got := errString(ValidateMetrics([]v1alpha1.Metric{metric("a"), metric("a")})); got != "metrics[1]: duplicate name 'a'" {
		t.Fatalf("duplicate: %q", got)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestInvalidRunErrorsBeforeMeasuring: a run whose metric Argo refuses is Error with
// "Analysis spec invalid: ..." and its provider is never called; a count in an argument is
// validated after substitution, as in Argo.
func TestInvalidRunErrorsBeforeMeasuring(t *testing.T) {
	m := metric("m")
	m.Count = ptr.To(intstr.FromString("{{args.count}}"))
	run := newRun(m)
	run.Spec.Args = append(run.Spec.Args, v1alpha1.Argument{Name: "count", Value: ptr.To("3")})
	fp := &fakeProvider{phases: []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseSuccessful}}
	clk := &clock{t: time.Unix(1000, 0)}
	e := &Engine{Providers: providers{"t/fake": fp}, Now: clk.now}
	out := e.Reconcile(context.Background(), run).Run
	if out.Status.Phase != v1alpha1.AnalysisPhaseError || out.Status.Message != "Analysis spec invalid: metrics[0]: interval must be specified when count > 1" {
		t.Fatalf("phase %s message %q", out.Status.Phase, out.Status.Message)
	}
	if len(fp.seen) != 0 {
		t.Fatalf("provider called %d times", len(fp.seen))
	}
	bad := newRun(metric("m"))
	bad.Spec.Args = nil
	out = e.Reconcile(context.Background(), bad).Run
	if out.Status.Phase != v1alpha1.AnalysisPhaseError || out.Status.Message != "Unable to resolve metric arguments: failed to resolve {{args.svc}}" {
		t.Fatalf("unresolved: phase %s message %q", out.Status.Phase, out.Status.Message)
	}
}

// TestMissingPluginNamesThePluginToRegister: the message comes from the one table of built-in
// providers (BuiltinPlugins).
func TestMissingPluginNamesThePluginToRegister(t *testing.T) {
	prom := v1alpha1.Metric{Name: "p", Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Query: "up"}}}
	name, _, err := PluginFor(prom)
	if err != nil || name != "nerve/prometheus" {
		t.Fatalf("prometheus runs through %q (%v)", name, err)
	}
	if got, want := MissingPlugin(prom, name), `metric "p": provider prometheus runs through the metric provider plugin "nerve/prometheus": register nerve-prometheus as "nerve/prometheus" in argo-rollouts-config (metricProviderPlugins)`; got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	dd := v1alpha1.Metric{Name: "d", Provider: v1alpha1.MetricProvider{Other: map[string]json.RawMessage{"datadog": json.RawMessage(`{}`)}}}
	name, _, _ = PluginFor(dd)
	if got, want := MissingPlugin(dd, name), `metric "d": provider datadog is not run by nerve: register a metric provider plugin named "nerve/datadog" in argo-rollouts-config (metricProviderPlugins), or use provider.plugin`; got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	pl := metric("x")
	if got, want := MissingPlugin(pl, "t/fake"), `metric "x": metric provider plugin "t/fake" is not registered in argo-rollouts-config (metricProviderPlugins)`; got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
