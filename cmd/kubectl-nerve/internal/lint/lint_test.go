package lint

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nerve-rollouts/nerve/plugins/host"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, d)
	}
}

func lintFile(t *testing.T, name string) []Finding {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return Lint(name, data)
}

func render(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

func TestSeedRawNamesWhatKeepsItFromRunning(t *testing.T) {
	fs := lintFile(t, "seed-raw.yaml")
	out := render(fs)
	golden(t, "seed-raw", out)
	for _, want := range []string{
		"spec.selector is missing",
		"spec.template has no containers",
		`{{args.service-name}} is used but spec.args does not declare "service-name"`,
		"spec.strategy.canary.analysis: passes arg \"service-name\" but template mllp-health-check does not declare it",
		"spec.strategy.canary.steps[2].analysis: passes no value for {{args.service-name}}, which template mllp-health-check uses",
		"spec.strategy.canary.steps[5].analysis: passes no value for {{args.service-name}}",
		"can never fail",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("findings lack %q:\n%s", want, out)
		}
	}
}

func TestSeedCompletedLintsClean(t *testing.T) {
	fs := lintFile(t, "seed-completed.yaml")
	golden(t, "seed-completed", render(fs))
	if n := count(fs, Error); n != 0 {
		t.Errorf("%d errors:\n%s", n, render(fs))
	}
	if count(fs, Warning) == 0 {
		t.Errorf("want the can-never-fail warnings:\n%s", render(fs))
	}
}

func TestStepsWithoutArgsNeedingOne(t *testing.T) {
	doc := `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: r}
spec:
  selector: {matchLabels: {app: r}}
  template:
    metadata: {labels: {app: r}}
    spec: {containers: [{name: c, image: i}]}
  strategy:
    canary:
      steps:
      - analysis: {templates: [{templateName: t}]}
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: t}
spec:
  args: [{name: service-name}]
  metrics:
  - name: m
    interval: 1m
    count: 3
    failureLimit: 1
    successCondition: result[0] < 1
    provider: {prometheus: {query: 'up{service="{{args.service-name}}"}'}}
`
	fs := Lint("x.yaml", []byte(doc))
	want := `x.yaml:12: error: Rollout/r: spec.strategy.canary.steps[0].analysis: passes no value for arg "service-name" that template t needs (it has no default)` + "\n"
	if got := render(fs); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestRegistryAndBadYAML(t *testing.T) {
	doc := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argo-rollouts-config}\ndata:\n  metricProviderPlugins: |\n    - name: nerve/prometheus\n      location: /bin/x\n      sha256: abc\n"
	want := `cm.yaml:7: error: ConfigMap/argo-rollouts-config: data.metricProviderPlugins[0].location: location "/bin/x" must start with file:// or https://
cm.yaml:8: error: ConfigMap/argo-rollouts-config: data.metricProviderPlugins[0].sha256: sha256 "abc" is not 64 hex characters
`
	if got := render(Lint("cm.yaml", []byte(doc))); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := Lint("bad.yaml", []byte("a: [\n")); len(got) != 1 || got[0].Severity != Error {
		t.Errorf("bad YAML: %v", got)
	}
}

// TestRegistryFollowsTheHost shows lint applying the plugin host's rules: http:// and names
// without a namespace are errors (lint used to accept the first and warn on the second), an
// uppercase sha256 is fine (lint used to demand lowercase), duplicates are errors.
func TestRegistryFollowsTheHost(t *testing.T) {
	const head = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argo-rollouts-config}\ndata:\n  trafficRouterPlugins: |\n"
	const sum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	const at = "cm.yaml:%d: %s: ConfigMap/argo-rollouts-config: data.trafficRouterPlugins"
	tests := []struct {
		name  string
		items string
		want  string
	}{
		{"valid", "    - name: a/b\n      location: file:///x\n      sha256: " + sum + "\n", ""},
		{"uppercase sha256", "    - name: a/b\n      location: https://h/x\n      sha256: " + strings.ToUpper(sum) + "\n", ""},
		{"http", "    - name: a/b\n      location: http://h/x\n      sha256: " + sum + "\n",
			fmt.Sprintf(at, 7, "error") + `[0].location: location "http://h/x" must start with file:// or https:// (plain http:// is refused)` + "\n"},
		{"name without namespace", "    - name: gatewayAPI\n      location: file:///x\n      sha256: " + sum + "\n",
			fmt.Sprintf(at, 6, "error") + `[0].name: plugin name "gatewayAPI" must be <namespace>/<name> (matching ` + host.NamePattern + ")\n"},
		{"duplicate", "    - {name: a/b, location: 'file:///x', sha256: " + sum + "}\n    - {name: a/b, location: 'file:///y', sha256: " + sum + "}\n",
			fmt.Sprintf(at, 7, "error") + `[1].name: duplicate plugin name "a/b" (also data.trafficRouterPlugins[0])` + "\n"},
		{"no sha256", "    - name: a/b\n      location: file:///x\n",
			fmt.Sprintf(at, 6, "warning") + `[0].sha256: plugin "a/b" has no sha256: it only runs where unverified plugins are allowed ` +
				"(`kubectl nerve plugins config` writes the sums)\n"},
		{"unknown field", "    - name: a/b\n      location: file:///x\n      sha256: " + sum + "\n      sum: x\n",
			fmt.Sprintf(at, 9, "error") + `[0].sum: unknown field "sum"` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(Lint("cm.yaml", []byte(head+tc.items))); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestDryRunRulesAreRegularExpressions(t *testing.T) {
	doc := `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: t}
spec:
  dryRun:
  - metricName: .*
  - metricName: cpu
  measurementRetention:
  - {metricName: ^error, limit: 5}
  metrics:
  - name: error-rate
    interval: 10s
    count: 3
    failureLimit: 1
    provider: {prometheus: {address: "http://p:9090", query: up}}
`
	var got []string
	for _, f := range Lint("t.yaml", []byte(doc)) {
		if f.Severity == Error {
			got = append(got, f.Path+": "+f.Message)
		}
	}
	want := `spec.dryRun[1].metricName: "cpu" matches no metric name (an unanchored regular expression, e.g. .* for all): the controller refuses the run`
	if len(got) != 1 || got[0] != want {
		t.Fatalf("errors %q, want only %q", got, want)
	}
}
