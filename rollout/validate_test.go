package rollout

import (
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// invalidSpec syncs ro with the templates and returns its InvalidSpec message ("" when none),
// checking that nothing was created for it.
func invalidSpec(t *testing.T, ro *v1alpha1.Rollout, objs ...any) string {
	t.Helper()
	fx := newFixture(t, append([]any{ro, service("web-stable", nil), service("web-canary", nil)}, objs...)...)
	fx.plugins.router(routerName)
	fx.sync(t)
	st := fx.rollout(t).Status
	c := getCond(&st, v1alpha1.InvalidSpec)
	if c == nil {
		return ""
	}
	if n := len(fx.api.replicaSets.List()); n != 0 {
		t.Fatalf("%d ReplicaSets created for an invalid Rollout", n)
	}
	return c.Message
}

func template(name string, m v1alpha1.Metric) *v1alpha1.AnalysisTemplate {
	return &v1alpha1.AnalysisTemplate{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: v1alpha1.AnalysisTemplateSpec{Metrics: []v1alpha1.Metric{m}}}
}

// TestSyncRefusesMetricWithoutProviderPlugin: a step analysis whose metric's provider has no
// registered plugin (a built-in block nerve has no plugin for, a built-in whose nerve plugin is
// not registered, an unregistered plugin key) is InvalidSpec before any ReplicaSet exists,
// naming the metric and the plugin to register.
func TestSyncRefusesMetricWithoutProviderPlugin(t *testing.T) {
	cases := []struct {
		name     string
		provider v1alpha1.MetricProvider
		want     string
	}{
		{"datadog", v1alpha1.MetricProvider{Other: map[string]json.RawMessage{"datadog": json.RawMessage(`{"query":"q"}`)}},
			`The Rollout "web" is invalid: spec.strategy.canary.steps[1].analysis.templates: Not found: AnalysisTemplate t: metric "m": provider datadog is not run by nerve: register a metric provider plugin named "nerve/datadog" in argo-rollouts-config (metricProviderPlugins), or use provider.plugin`},
		{"prometheus not registered", v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Query: "up"}},
			`The Rollout "web" is invalid: spec.strategy.canary.steps[1].analysis.templates: Not found: AnalysisTemplate t: metric "m": provider prometheus runs through the metric provider plugin "nerve/prometheus": register nerve-prometheus as "nerve/prometheus" in argo-rollouts-config (metricProviderPlugins)`},
		{"plugin key", v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"acme/metric": json.RawMessage(`{}`)}},
			`The Rollout "web" is invalid: spec.strategy.canary.steps[1].analysis.templates: Not found: AnalysisTemplate t: metric "m": metric provider plugin "acme/metric" is not registered in argo-rollouts-config (metricProviderPlugins)`},
		{"registered", v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"fake/metric": json.RawMessage(`{}`)}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ro := syncedRollout(setWeight(25), analysisStep("t"))
			if got := invalidSpec(t, ro, template("t", v1alpha1.Metric{Name: "m", Provider: c.provider})); got != c.want {
				t.Fatalf("InvalidSpec %q\nwant        %q", got, c.want)
			}
		})
	}
}

// TestSyncRefusesStepMetricThatRunsIndefinitely: Argo's InvalidSpec for a step analysis metric
// with an interval and no count; the background analysis may run indefinitely.
func TestSyncRefusesStepMetricThatRunsIndefinitely(t *testing.T) {
	m := v1alpha1.Metric{Name: "m", Interval: "10s", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"fake/metric": json.RawMessage(`{}`)}}}
	ro := syncedRollout(setWeight(25), analysisStep("t"))
	want := `The Rollout "web" is invalid: spec.strategy.canary.steps[1].analysis.templates: Invalid value: "templateNames: [t]": AnalysisTemplate t has metric m which runs indefinitely. Invalid value for count: <nil>`
	if got := invalidSpec(t, ro, template("t", m)); got != want {
		t.Fatalf("InvalidSpec %q\nwant        %q", got, want)
	}
	bg := syncedRollout(setWeight(25))
	bg.Spec.Strategy.Canary.Analysis = &v1alpha1.RolloutAnalysisBackground{RolloutAnalysis: v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "t"}}}}
	if got := invalidSpec(t, bg, template("t", m)); got != "" {
		t.Fatalf("background analysis: InvalidSpec %q", got)
	}
}
