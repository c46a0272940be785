//go:build e2e

package prometheus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance"
)

// TestConformance runs the built plugin binary through nerve-conformance's suite: wire mode, and
// functional mode against the real local Prometheus (every call succeeds, Run finishes).
func TestConformance(t *testing.T) {
	bin := framework.Binary(t, pluginBinary)
	cfg, err := json.Marshal(map[string]any{"address": framework.PrometheusURL(t), "query": "vector(1)", "timeout": 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, functional := range []bool{false, true} {
		t.Run(fmt.Sprintf("functional=%t", functional), func(t *testing.T) {
			rep, err := conformance.Run(t.Context(), bin, conformance.Options{Kind: plugins.KindMetricProvider, Name: name,
				Config: cfg, SuccessCondition: "result[0] == 1", FailureCondition: "result[0] != 1", Functional: functional})
			if err != nil {
				t.Fatalf("conformance.Run: %v", err)
			}
			var out bytes.Buffer
			_ = rep.Write(&out)
			t.Logf("nerve-conformance (functional=%t):\n%s", functional, out.String())
			if !rep.Passed() {
				t.Fatalf("conformance failed:\n%s", out.String())
			}
		})
	}
}

// TestConformanceCLI runs the nerve-conformance command itself, in functional mode, on the plugin
// binary with a non-default --name passed through to the plugin.
func TestConformanceCLI(t *testing.T) {
	cli := framework.Binary(t, "nerve-conformance")
	bin := framework.Binary(t, pluginBinary)
	cfg := fmt.Sprintf(`{"address":%q,"query":"vector(1)","timeout":10}`, framework.PrometheusURL(t))
	cmd := exec.CommandContext(t.Context(), cli, "--kind", "metricprovider", "--name", "e2e/prom-cli", "--config", cfg,
		"--functional", "--success-condition", "result[0] == 1", bin, "--", "--name", "e2e/prom-cli")
	out, err := cmd.CombinedOutput()
	t.Logf("nerve-conformance --functional:\n%s", out)
	if err != nil {
		t.Fatalf("nerve-conformance: %v", err)
	}
}
