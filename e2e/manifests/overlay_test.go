//go:build e2e

package manifests

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// flatten maps every leaf of a decoded YAML document to its path.
func flatten(prefix string, v any, out map[string]any) {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			flatten(prefix+"/"+k, c, out)
		}
	case []any:
		for i, c := range t {
			flatten(fmt.Sprintf("%s/%d", prefix, i), c, out)
		}
	default:
		out[prefix] = v
	}
}

func renderByKind(t *testing.T, dir string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, doc := range bytes.Split(kubectl(t, nil, "kustomize", dir), []byte("\n---\n")) {
		obj := map[string]any{}
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			t.Fatal(err)
		}
		leaves := map[string]any{}
		flatten("", obj, leaves)
		out[fmt.Sprint(obj["kind"])] = leaves
	}
	return out
}

// TestDemoOverlayAddsOnlyWhatTheSeedLacks diffs the demo overlay against the
// seed's verbatim base: nothing of the seed is removed, and every added or
// changed field is one the excerpt leaves out (or a documented demo-length
// value: pauses, rate windows, the local Prometheus).
func TestDemoOverlayAddsOnlyWhatTheSeedLacks(t *testing.T) {
	root := repoRoot(t)
	base := renderByKind(t, filepath.Join(root, "manifests/examples/mllp-listener/base"))
	demo := renderByKind(t, filepath.Join(root, "manifests/examples/mllp-listener/overlays/demo"))
	allowed := map[string][]string{
		"Rollout": {
			"/metadata/namespace", "/spec/selector/", "/spec/template/",
			"/spec/strategy/canary/stableService", "/spec/strategy/canary/canaryService",
			"/spec/strategy/canary/trafficRouting/plugins/nerve/mllp/",
			"/spec/strategy/canary/steps/2/analysis/args/", "/spec/strategy/canary/steps/5/analysis/args/",
			"/spec/strategy/canary/steps/1/pause/duration", "/spec/strategy/canary/steps/4/pause/duration",
			"/spec/strategy/canary/steps/7/pause/duration",
		},
		"AnalysisTemplate": {
			"/metadata/namespace", "/spec/args/",
			"/spec/metrics/0/interval", "/spec/metrics/0/count", "/spec/metrics/1/interval", "/spec/metrics/1/count",
			"/spec/metrics/0/provider/prometheus/address", "/spec/metrics/1/provider/prometheus/address",
			"/spec/metrics/0/provider/prometheus/query", "/spec/metrics/1/provider/prometheus/query",
		},
	}
	for kind, prefixes := range allowed {
		b, d := base[kind], demo[kind]
		if b == nil || d == nil {
			t.Fatalf("%s missing from base or overlay", kind)
		}
		for p := range b {
			if _, ok := d[p]; !ok {
				t.Errorf("%s: the overlay removes the seed's %s", kind, p)
			}
		}
		for p, v := range d {
			if bv, ok := b[p]; ok && fmt.Sprint(bv) == fmt.Sprint(v) {
				continue
			}
			if !hasPrefix(p, prefixes) {
				t.Errorf("%s: the overlay adds or changes %s = %v, which the seed's excerpt does not leave out", kind, p, v)
			}
		}
	}
	// The queries change only their rate windows.
	for _, i := range []string{"0", "1"} {
		p := "/spec/metrics/" + i + "/provider/prometheus/query"
		seed := fmt.Sprint(base["AnalysisTemplate"][p])
		got := fmt.Sprint(demo["AnalysisTemplate"][p])
		if strings.ReplaceAll(seed, "[5m]", "[10s]") != got {
			t.Errorf("metric %s query changed beyond its rate window:\nseed: %s\ndemo: %s", i, seed, got)
		}
	}
}

func hasPrefix(p string, prefixes []string) bool {
	for _, pre := range prefixes {
		if p == pre || (strings.HasSuffix(pre, "/") && strings.HasPrefix(p, pre)) {
			return true
		}
	}
	return false
}
