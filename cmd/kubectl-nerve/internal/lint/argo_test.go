package lint

import (
	"strings"
	"testing"
)

const lintRollout = `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: r}
spec:
  replicas: 2
  bogus: 1
  selector: {matchLabels: {app: r}}
  template:
    metadata: {labels: {app: r}}
    spec: {containers: [{name: c, image: i}]}
  strategy:
    canary:
      stableServce: s
      steps:
      - setWeight: 20
        pauze: {}
      - analysis: {templates: [{templateName: t}]}
`

const lintTemplate = `---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: t}
spec:
  metrics:
  - name: m
    interval: 10s
    failureCondition: result[0] > 1
    provider: {plugin: {acme/metric: {q: x}}}
`

func errorsOf(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		if f.Severity == Error {
			out = append(out, f.Path+": "+f.Message)
		}
	}
	return out
}

// TestLintReportsEveryUnknownField: every unknown field of an object, each at its path (the
// API server would prune each one), not only the first.
func TestLintReportsEveryUnknownField(t *testing.T) {
	got := strings.Join(errorsOf(Lint("r.yaml", []byte(lintRollout))), "\n")
	for _, want := range []string{
		`spec.bogus: unknown field "bogus"`,
		`spec.strategy.canary.stableServce: unknown field "stableServce"`,
		`spec.strategy.canary.steps[0].pauze: unknown field "pauze"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
}

// TestLintBlueGreenIsTheRulesError: lint's severity for blueGreen is the rules' (the
// controller runs blueGreen: a valid one has no error, one without activeService has Argo's).
func TestLintBlueGreenIsTheRulesError(t *testing.T) {
	doc := strings.Replace(lintRollout, "    canary:\n      stableServce: s\n", "    blueGreen:\n      activeService: a\n", 1)
	doc = strings.Replace(doc, "      steps:\n      - setWeight: 20\n        pauze: {}\n      - analysis: {templates: [{templateName: t}]}\n", "", 1)
	if got := errorsOf(Lint("r.yaml", []byte(doc))); len(got) != 1 || got[0] != `spec.bogus: unknown field "bogus"` {
		t.Fatalf("blueGreen errors %q", got)
	}
	doc = strings.Replace(doc, "      activeService: a\n", "      previewService: p\n", 1)
	got := strings.Join(errorsOf(Lint("r.yaml", []byte(doc))), "\n")
	if !strings.Contains(got, "spec.strategy.blueGreen.activeService: ") {
		t.Fatalf("no activeService error:\n%s", got)
	}
}

// TestLintMissingProviderPluginIsAnError: with the file's argo-rollouts-config, a metric whose
// plugin is not registered is an Error naming the plugin (as the controller's InvalidSpec); a
// built-in block nerve has no plugin for is an Error in any file; a step metric that never ends
// is Argo's InvalidSpec.
func TestLintMissingProviderPluginIsAnError(t *testing.T) {
	cm := `---
apiVersion: v1
kind: ConfigMap
metadata: {name: argo-rollouts-config}
data:
  metricProviderPlugins: |-
    - name: nerve/prometheus
      location: file:///plugins/nerve-prometheus
      sha256: ` + strings.Repeat("a", 64) + "\n"
	got := strings.Join(errorsOf(Lint("r.yaml", []byte(lintRollout+lintTemplate+cm))), "\n")
	for _, want := range []string{
		`spec.strategy.canary.steps[1].analysis.templates: Not found: AnalysisTemplate t: metric "m": metric provider plugin "acme/metric" is not registered in argo-rollouts-config (metricProviderPlugins)`,
		`spec.strategy.canary.steps[1].analysis.templates: metric "m" of AnalysisTemplate t has an interval and no count: this analysis would never end`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
	dd := strings.Replace(lintTemplate, "{plugin: {acme/metric: {q: x}}}", "{datadog: {query: x}}", 1)
	got = strings.Join(errorsOf(Lint("t.yaml", []byte(dd))), "\n")
	if want := `spec.metrics[0].provider.datadog: metric "m": provider datadog is not run by nerve: register a metric provider plugin named "nerve/datadog"`; !strings.Contains(got, want) {
		t.Errorf("errors lack %q:\n%s", want, got)
	}
}

// TestLintArgoMetricRefusals: a metric Argo's ValidateMetric refuses that lint's own checks do
// not word is an Error with Argo's reason.
func TestLintArgoMetricRefusals(t *testing.T) {
	doc := strings.Replace(lintTemplate, "    interval: 10s\n", "    interval: 10s\n    consecutiveErrorLimit: -1\n", 1)
	got := strings.Join(errorsOf(Lint("t.yaml", []byte(doc))), "\n")
	if want := "spec.metrics[0]: the controller refuses a run of this metric (Analysis spec invalid): consecutiveErrorLimit must be >= 0"; !strings.Contains(got, want) {
		t.Errorf("errors lack %q:\n%s", want, got)
	}
}
