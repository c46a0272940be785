package v1alpha1_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// lossless decodes a YAML document into T, re-encodes it and checks that every field of the
// input survived with its value (output keys the input lacks are allowed only when zero).
func lossless[T any](t *testing.T, path string) T {
	t.Helper()
	in, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var obj T
	if err := yaml.UnmarshalStrict(in, &obj); err != nil {
		t.Fatalf("%s does not decode strictly: %v", path, err)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	if err := yaml.Unmarshal(in, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	var diffs []string
	subset("", want, got, &diffs)
	sort.Strings(diffs)
	for _, d := range diffs {
		t.Errorf("%s: %s", path, d)
	}
	return obj
}

func subset(path string, want, got any, diffs *[]string) {
	if isZero(want) && isZero(got) {
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*diffs = append(*diffs, fmt.Sprintf("%s: want an object, got %v", path, got))
			return
		}
		for k, wv := range w {
			subset(path+"."+k, wv, g[k], diffs)
		}
		for k, gv := range g {
			if _, ok := w[k]; !ok && !isZero(gv) {
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: unexpected %v", path, k, gv))
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: want %v, got %v", path, want, got))
			return
		}
		for i := range w {
			subset(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], diffs)
		}
	default:
		if !reflect.DeepEqual(want, got) {
			*diffs = append(*diffs, fmt.Sprintf("%s: want %#v, got %#v", path, want, got))
		}
	}
}

func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case float64:
		return x == 0
	case bool:
		return !x
	case map[string]any:
		for _, e := range x {
			if !isZero(e) {
				return false
			}
		}
		return true
	case []any:
		return len(x) == 0
	}
	return false
}

func TestSeedRolloutDecodesWithoutLoss(t *testing.T) {
	ro := lossless[v1alpha1.Rollout](t, "testdata/seed-rollout.yaml")
	c := ro.Spec.Strategy.Canary
	if ro.Name != "mllp-listener" || ro.Namespace != "clinical-ingestion" || *ro.Spec.Replicas != 4 || c == nil || len(c.Steps) != 9 {
		t.Fatalf("decoded %+v", ro)
	}
	if *c.Steps[0].SetWeight != 5 || c.Steps[1].Pause.Duration.StrVal != "5m" || c.Steps[2].Analysis.Templates[0].TemplateName != "mllp-health-check" {
		t.Errorf("steps %+v", c.Steps[:3])
	}
	if c.Analysis == nil || c.Analysis.Args[0].Name != "service-name" || c.Analysis.Args[0].Value != "mllp-listener" {
		t.Errorf("background analysis %+v", c.Analysis)
	}
}

func TestSeedAnalysisTemplateDecodesWithoutLoss(t *testing.T) {
	at := lossless[v1alpha1.AnalysisTemplate](t, "testdata/seed-analysistemplate.yaml")
	if len(at.Spec.Metrics) != 2 {
		t.Fatalf("metrics %+v", at.Spec.Metrics)
	}
	m := at.Spec.Metrics[0]
	if m.Name != "ack-latency" || m.SuccessCondition != "result[0] < 0.005" || m.FailureLimit.IntValue() != 3 ||
		m.Provider.Prometheus == nil || m.Provider.Prometheus.Address != "http://prometheus.platform-observability:9090" {
		t.Errorf("metric %+v", m)
	}
}

func TestUnmodelledProviderRoundTripsThroughOther(t *testing.T) {
	in := []byte(`{"datadog":{"apiVersion":"v2","interval":"5m","query":"avg:kubernetes.cpu.user.total{*}"}}`)
	var p v1alpha1.MetricProvider
	if err := json.Unmarshal(in, &p); err != nil {
		t.Fatal(err)
	}
	if p.Prometheus != nil || p.Plugin != nil || len(p.Other) != 1 || p.Other["datadog"] == nil {
		t.Fatalf("decoded %+v", p)
	}
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal(in, &want)
	_ = json.Unmarshal(out, &got)
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("round trip:\n in  %s\n out %s", in, out)
	}
	// Through a whole template document (YAML), next to a modelled provider.
	doc := []byte("metrics:\n- name: a\n  provider:\n    datadog: {query: q}\n- name: b\n  provider:\n    plugin:\n      nerve/prometheus: {query: up}\n")
	var spec v1alpha1.AnalysisTemplateSpec
	if err := yaml.Unmarshal(doc, &spec); err != nil {
		t.Fatal(err)
	}
	if string(spec.Metrics[0].Provider.Other["datadog"]) != `{"query":"q"}` || string(spec.Metrics[1].Provider.Plugin["nerve/prometheus"]) != `{"query":"up"}` {
		t.Fatalf("spec %+v", spec)
	}
}

// TestBlueGreenRolloutDecodesWithoutLoss: every blueGreen field of Argo's spec and status
// survives a decode and re-encode, and a deep copy shares no pointer with the original.
func TestBlueGreenRolloutDecodesWithoutLoss(t *testing.T) {
	ro := lossless[v1alpha1.Rollout](t, "testdata/bluegreen-rollout.yaml")
	bg := ro.Spec.Strategy.BlueGreen
	if bg == nil || bg.ActiveService != "fhir-gateway-active" || *bg.PreviewReplicaCount != 1 || *bg.AutoPromotionEnabled ||
		bg.AntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution.Weight != 50 || bg.PrePromotionAnalysis.Templates[0].TemplateName != "smoke" {
		t.Fatalf("decoded %+v", bg)
	}
	if st := ro.Status.BlueGreen; st.ActiveSelector != "6d4f8b7c9" || !st.ScaleUpPreviewCheckPoint || st.PostPromotionAnalysisRunStatus.Message != "waiting" {
		t.Fatalf("status %+v", st)
	}
	cp := ro.DeepCopy()
	*cp.Spec.Strategy.BlueGreen.PreviewReplicaCount = 9
	cp.Spec.Strategy.BlueGreen.AntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution.Weight = 9
	cp.Spec.Strategy.BlueGreen.PreviewMetadata.Labels["role"] = "x"
	cp.Spec.Strategy.BlueGreen.PrePromotionAnalysis.Args[0].Value = "x"
	cp.Status.BlueGreen.PrePromotionAnalysisRunStatus.Name = "x"
	if *bg.PreviewReplicaCount != 1 || bg.AntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution.Weight != 50 ||
		bg.PreviewMetadata.Labels["role"] != "preview" || bg.PrePromotionAnalysis.Args[0].Value != "fhir-gateway-preview" ||
		ro.Status.BlueGreen.PrePromotionAnalysisRunStatus.Name == "x" {
		t.Fatal("DeepCopy shares memory with the original")
	}
}
