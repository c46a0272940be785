package fields

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	argo "github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/analysis"
	"github.com/nerve-rollouts/nerve/rollout/rules"
)

// docPath is the printed list, kept by TestArgoFieldsDoc (NERVE_UPDATE_GOLDEN=1 rewrites it).
const docPath = "../../docs/argo-fields.md"

// blueGreenPrefix: the blueGreen strategy's fields are handled by rollout/bluegreen*.go.
const blueGreenPrefix = "spec.strategy.blueGreen"

// rolloutHandled maps the Rollout paths nerve runs (a path covers its subtree) to where.
func rolloutHandled() map[string]string {
	const c = "spec.strategy.canary."
	return map[string]string{
		"spec.replicas":                       "ReplicaSet scaling (rollout/canary)",
		"spec.selector":                       "ReplicaSet selection; validated (rollout/rules)",
		"spec.template":                       "the ReplicaSets' pod template and pod-template-hash",
		"spec.minReadySeconds":                "ReplicaSet minReadySeconds",
		"spec.rollbackWindow.*":               "fast rollback within the window (rollout/rollbackwindow.go)",
		"spec.strategy":                       "strategy choice",
		"spec.strategy.canary":                "canary strategy (rollout/canary*.go)",
		"spec.revisionHistoryLimit":           "old ReplicaSets deleted beyond it",
		"spec.paused":                         "pauses scaling and steps",
		"spec.progressDeadlineSeconds":        "Progressing condition timeout",
		"spec.progressDeadlineAbort":          "abort on progress deadline",
		"spec.restartAt":                      "pod restarts (rollout/restart.go)",
		"spec.analysis.*":                     "AnalysisRun history limits (rollout/analysisruns.go)",
		c + "canaryService":                   "canary Service selector",
		c + "stableService":                   "stable Service selector",
		c + "steps":                           "canary steps",
		c + "steps.setWeight":                 "setWeight step",
		c + "steps.pause.*":                   "pause step",
		c + "steps.analysis.*":                "step analysis",
		c + "steps.setCanaryScale.*":          "setCanaryScale step",
		c + "steps.setHeaderRoute.*":          "header route through the router plugins",
		c + "steps.setMirrorRoute.*":          "mirror route through the router plugins",
		c + "trafficRouting":                  "traffic routing",
		c + "trafficRouting.managedRoutes.*":  "managed routes of the router plugins",
		c + "trafficRouting.plugins":          "traffic-router plugins (Argo's plugin protocol)",
		c + "trafficRouting.maxTrafficWeight": "weight scale",
		c + "maxUnavailable":                  "scaling fenceposts",
		c + "maxSurge":                        "scaling fenceposts",
		c + "analysis.*":                      "background analysis",
		c + "canaryMetadata.*":                "ephemeral canary pod metadata (rollout/ephemeral.go)",
		c + "stableMetadata.*":                "ephemeral stable pod metadata (rollout/ephemeral.go)",
		c + "scaleDownDelaySeconds":           "old stable kept after promotion",
		c + "scaleDownDelayRevisionLimit":     "how many old ReplicaSets keep the delay",
		c + "abortScaleDownDelaySeconds":      "canary kept after an abort",
		c + "dynamicStableScale":              "stable scaled with the traffic",
		c + "minPodsPerReplicaSet":            "minimum pods of canary and stable (trafficRouting)",
		c + "antiAffinity.*":                  "anti-affinity against the stable's pods on new ReplicaSets (rollout/affinity.go)",
	}
}

// analysisRunHandled maps the AnalysisRun paths nerve's analysis engine runs to where; the
// metric providers are classified by provider kind (providerNote).
func analysisRunHandled() map[string]string {
	return map[string]string{
		"spec.metrics":                         "measured by rollout/analysis",
		"spec.metrics.name":                    "metric name",
		"spec.metrics.interval":                "measurement interval",
		"spec.metrics.initialDelay":            "delay before the first measurement",
		"spec.metrics.count":                   "number of measurements",
		"spec.metrics.successCondition":        "evaluated by the provider plugin",
		"spec.metrics.failureCondition":        "evaluated by the provider plugin",
		"spec.metrics.failureLimit":            "assessment",
		"spec.metrics.inconclusiveLimit":       "assessment",
		"spec.metrics.consecutiveErrorLimit":   "assessment",
		"spec.metrics.consecutiveSuccessLimit": "assessment",
		"spec.metrics.provider":                "exactly one provider (below)",
		"spec.args.*":                          "{{args.x}} substitution, secretKeyRef and fieldRef values",
		"spec.terminate":                       "stops the run",
		"spec.dryRun.*":                        "dry-run metrics",
		"spec.measurementRetention.*":          "measurements kept",
		"spec.ttlStrategy.*":                   "run deleted after completion (rollout/runsync.go)",
	}
}

// covering returns the entry of m for path: the path itself, or an ancestor listed with ".*"
// (its whole subtree).
func covering(m map[string]string, path string) (string, string, bool) {
	if note, ok := m[path]; ok {
		return path, note, true
	}
	if note, ok := m[path+".*"]; ok {
		return path + ".*", note, true
	}
	for p := path; ; {
		i := strings.LastIndex(p, ".")
		if i < 0 {
			return "", "", false
		}
		p = p[:i]
		if note, ok := m[p+".*"]; ok {
			return p + ".*", note, true
		}
	}
}

// topUnhandled is the shortest ancestor-or-self of path that m does not cover.
func topUnhandled(m map[string]string, path string) string {
	segs := strings.Split(path, ".")
	for i := 2; i <= len(segs); i++ {
		p := strings.Join(segs[:i], ".")
		if _, _, ok := covering(m, p); !ok {
			return p
		}
	}
	return path
}

// row is one line of the printed list.
type row struct{ path, status, note string }

var indexRe = regexp.MustCompile(`\[[^\]]*\]`)

// argoRolloutWith is Argo's Rollout with the spec field at path set, as nerve's controller
// reads it: through JSON into nerve's types.
func argoRolloutWith(t *testing.T, path string) (*v1alpha1.Rollout, []byte) {
	t.Helper()
	v, ok := Set(reflect.TypeFor[argo.Rollout](), path)
	if !ok {
		t.Fatalf("%s: no such field in Argo's Rollout", path)
	}
	raw, err := json.Marshal(v.Addr().Interface())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ro := &v1alpha1.Rollout{}
	if err := json.Unmarshal(raw, ro); err != nil {
		t.Fatalf("%s: nerve cannot decode %s: %v", path, raw, err)
	}
	return ro, raw
}

// present reports whether the JSON document holds a non-null value at the dotted path (lists
// are looked into at their first element).
func present(doc any, segs []string) bool {
	for _, s := range segs {
		for {
			l, ok := doc.([]any)
			if !ok {
				break
			}
			if len(l) == 0 {
				return false
			}
			doc = l[0]
		}
		m, ok := doc.(map[string]any)
		if !ok {
			return false
		}
		if _, found := m[s]; !found {
			if el, isMapEl := m["x"].(map[string]any); isMapEl && len(m) == 1 {
				m = el // a map element (Set's key "x") adds no segment
			}
		}
		if doc, ok = m[s]; !ok || doc == nil {
			return false
		}
	}
	return true
}

func jsonDoc(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// rolloutRows classifies every field of Argo's RolloutSpec and proves each claim: a handled
// field survives nerve's decoding; a refused one makes rules.ValidateRollout (the controller's
// InvalidSpec, lint's findings) report a finding at its path.
func rolloutRows(t *testing.T) []row {
	handled := rolloutHandled()
	refusal := map[string]string{} // top refused path -> the finding's detail
	var rows []row
	for _, p := range Paths(reflect.TypeFor[argo.RolloutSpec](), "spec") {
		if strings.HasPrefix(p, blueGreenPrefix) {
			rows = append(rows, row{p, "handled", "blueGreen strategy (rollout/bluegreen*.go)"})
			continue
		}
		if at, note, ok := covering(handled, p); ok {
			ro, _ := argoRolloutWith(t, p)
			if !present(jsonDoc(t, ro), strings.Split(p, ".")) {
				t.Errorf("%s is listed as handled (%s) but nerve's types drop it", p, at)
			}
			rows = append(rows, row{p, "handled", note})
			continue
		}
		top := topUnhandled(handled, p)
		detail, ok := refusal[top]
		if !ok {
			detail = proveRefused(t, top)
			refusal[top] = detail
		}
		note := "InvalidSpec: " + detail
		if top != p {
			note = "refused with `" + top + "`"
		}
		rows = append(rows, row{p, "refused", note})
	}
	return rows
}

// proveRefused returns the detail of the Error finding ValidateRollout reports at path for a
// Rollout that sets it, failing the test when there is none.
func proveRefused(t *testing.T, path string) string {
	t.Helper()
	ro, raw := argoRolloutWith(t, path)
	var got []string
	for _, f := range rules.ValidateRollout(ro, rules.Env{}) {
		if f.Severity == rules.Error && indexRe.ReplaceAllString(f.Path, "") == path {
			return f.String()
		}
		got = append(got, f.String())
	}
	t.Errorf("%s is neither handled by nerve nor refused: a Rollout setting it (%s) gets no finding at that path; findings:\n  %s",
		path, raw, strings.Join(got, "\n  "))
	return "(not refused)"
}

// analysisRunRows classifies every field of Argo's AnalysisRunSpec: the engine's own fields
// survive nerve's decoding; each provider kind runs through the plugin analysis.PluginFor names.
func analysisRunRows(t *testing.T) []row {
	handled := analysisRunHandled()
	var rows []row
	for _, p := range Paths(reflect.TypeFor[argo.AnalysisRunSpec](), "spec") {
		if kind, rest, ok := providerPath(p); ok {
			rows = append(rows, row{p, "handled", providerRow(t, kind, rest)})
			continue
		}
		_, note, ok := covering(handled, p)
		if !ok {
			t.Errorf("%s: AnalysisRun field not classified", p)
			continue
		}
		v, _ := Set(reflect.TypeFor[argo.AnalysisRun](), p)
		raw, err := json.Marshal(v.Addr().Interface())
		if err != nil {
			t.Fatal(err)
		}
		run := &v1alpha1.AnalysisRun{}
		if err := json.Unmarshal(raw, run); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !present(jsonDoc(t, run), strings.Split(p, ".")) {
			t.Errorf("%s is listed as handled but nerve's types drop it", p)
		}
		rows = append(rows, row{p, "handled", note})
	}
	return rows
}

// providerPath splits spec.metrics.provider.<kind>[.rest].
func providerPath(p string) (kind, rest string, ok bool) {
	s, ok := strings.CutPrefix(p, "spec.metrics.provider.")
	if !ok {
		return "", "", false
	}
	kind, rest, _ = strings.Cut(s, ".")
	return kind, rest, true
}

// providerRow proves that a metric with provider.<kind> (and the field rest set) runs through
// the plugin nerve names for it, with the field in the plugin's config.
func providerRow(t *testing.T, kind, rest string) string {
	t.Helper()
	path := "provider." + kind
	if rest != "" {
		path += "." + rest
	}
	v, ok := Set(reflect.TypeFor[argo.Metric](), path)
	if !ok {
		t.Fatalf("%s: no such field in Argo's Metric", path)
	}
	v.FieldByName("Name").SetString("m")
	raw, err := json.Marshal(v.Addr().Interface())
	if err != nil {
		t.Fatal(err)
	}
	var m v1alpha1.Metric
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	name, resolved, err := analysis.PluginFor(m)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return "(error)"
	}
	want := analysis.BuiltinPluginPrefix + kind
	if kind == "plugin" {
		want = "x"
	}
	if name != want {
		t.Errorf("%s runs through plugin %q, want %q", path, name, want)
	}
	if rest != "" && kind != "plugin" {
		var cfg any
		if err := json.Unmarshal(resolved.Provider.Plugin[name], &cfg); err != nil || !present(cfg, strings.Split(rest, ".")) {
			t.Errorf("%s: the plugin config %s lost the field (%v)", path, resolved.Provider.Plugin[name], err)
		}
	}
	if kind == "plugin" {
		return "metric-provider plugin named by the key (Argo's plugin protocol)"
	}
	return fmt.Sprintf("runs through the metric-provider plugin `%s` (an AnalysisRun errors naming it when it is not registered)", want)
}

func render(rollout, runs []row) string {
	var b strings.Builder
	b.WriteString("# Argo Rollouts v1.10.0 fields in nerve\n\n")
	b.WriteString("Generated by `interop/fields` (TestArgoFieldsDoc, `NERVE_UPDATE_GOLDEN=1` to rewrite) from the real\n")
	b.WriteString("argo-rollouts v1.10.0 module's types. Every field is either **handled** (nerve's types keep it and the\n")
	b.WriteString("loop runs it; the test decodes a Rollout setting it) or **refused** (the controller sets InvalidSpec and\n")
	b.WriteString("`kubectl nerve lint` reports the same finding at that path; the test proves the finding). A list or map\n")
	b.WriteString("element adds no segment (`steps.setWeight` is `steps[i].setWeight`).\n\n")
	for _, s := range []struct {
		title string
		rows  []row
	}{{"Rollout (`spec`)", rollout}, {"AnalysisRun (`spec`)", runs}} {
		fmt.Fprintf(&b, "## %s\n\n| field | nerve | how |\n|---|---|---|\n", s.title)
		sort.Slice(s.rows, func(i, j int) bool { return s.rows[i].path < s.rows[j].path })
		for _, r := range s.rows {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r.path, r.status, strings.ReplaceAll(r.note, "|", "\\|"))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestArgoFieldsDoc: every field of Argo v1.10.0's Rollout and AnalysisRun specs is handled or
// refused (proven per field), and docs/argo-fields.md prints exactly that.
func TestArgoFieldsDoc(t *testing.T) {
	doc := render(rolloutRows(t), analysisRunRows(t))
	if t.Failed() {
		return
	}
	path := filepath.FromSlash(docPath)
	if os.Getenv("NERVE_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with NERVE_UPDATE_GOLDEN=1)", err)
	}
	if string(got) != doc {
		t.Fatalf("%s is stale: regenerate it with NERVE_UPDATE_GOLDEN=1 go test ./fields/", docPath)
	}
}

// TestRefusalsNameTheirField: the proof itself can fail: a field nerve does not refuse (a valid
// canary field set alone) yields no finding at its path.
func TestRefusalsNameTheirField(t *testing.T) {
	ro, _ := argoRolloutWith(t, "spec.strategy.canary.canaryMetadata.labels")
	for _, f := range rules.ValidateRollout(ro, rules.Env{}) {
		if indexRe.ReplaceAllString(f.Path, "") == "spec.strategy.canary.canaryMetadata" {
			t.Fatalf("a handled field got a finding: %s", f)
		}
	}
	if !present(jsonDoc(t, ro), strings.Split("spec.strategy.canary.canaryMetadata.labels", ".")) {
		t.Fatal("canaryMetadata.labels lost in nerve's decoding")
	}
	if present(jsonDoc(t, ro), []string{"spec", "strategy", "canary", "noSuchField"}) {
		t.Fatal("present finds a field that is not there")
	}
}
