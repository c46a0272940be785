//go:build e2e

package providers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/metricprovider/web"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance"
)

// TestWebProvider drives the real nerve-web binary over the real wire against a real HTTP
// endpoint: Argo's result mapping for a passing, failing and inconclusive value, a non-2xx answer,
// a JSONPath that matches nothing, a non-JSON body, and a timeout.
func TestWebProvider(t *testing.T) {
	ep := startEndpoint(t, 200, `{}`)
	p := startProvider(t, "nerve-web", web.DefaultName)
	cfg := map[string]any{"url": ep.URL + "/health", "jsonPath": "{$.checks.errorRate}", "timeoutSeconds": 2,
		"headers": []map[string]string{{"key": "X-Canary", "value": "true"}}}
	m := pluginMetric(t, "health", web.DefaultName, cfg, "result < 0.01", "result >= 0.05")
	cases := []struct {
		name  string
		code  int
		body  string
		delay time.Duration
		phase v1alpha1.AnalysisPhase
		value string
		msg   string
	}{
		{"passing", 200, `{"checks":{"errorRate":0.002}}`, 0, v1alpha1.AnalysisPhaseSuccessful, "0.002", `successCondition "result < 0.01" is true`},
		{"failing", 200, `{"checks":{"errorRate":0.2}}`, 0, v1alpha1.AnalysisPhaseFailed, "0.2", `failureCondition "result >= 0.05" is true`},
		{"inconclusive", 200, `{"checks":{"errorRate":0.03}}`, 0, v1alpha1.AnalysisPhaseInconclusive, "0.03", "-> Inconclusive"},
		{"503", 503, `{"checks":{"errorRate":0.002}}`, 0, v1alpha1.AnalysisPhaseError, "", "received non 2xx response code: 503"},
		{"no match", 200, `{"checks":{}}`, 0, v1alpha1.AnalysisPhaseError, "", "Could not find JSONPath in body: errorRate is not found"},
		{"not JSON", 200, `ok`, 0, v1alpha1.AnalysisPhaseSuccessful, "ok", "not JSON"},
		{"timeout", 200, `{}`, 4 * time.Second, v1alpha1.AnalysisPhaseError, "", "did not answer within the 2s timeout (timeoutSeconds: 2)"},
	}
	for _, c := range cases {
		ep.set(c.code, c.body, c.delay)
		got, err := p.Run(t.Context(), &v1alpha1.AnalysisRun{}, m)
		if err != nil {
			t.Fatalf("%s: Run over the wire: %v", c.name, err)
		}
		t.Logf("%s: phase=%s value=%q message=%q", c.name, got.Phase, got.Value, got.Message)
		if got.Phase != c.phase || got.Value != c.value || !strings.Contains(got.Message, c.msg) || got.FinishedAt == nil {
			t.Errorf("%s: got %s value %q %q; want %s value %q message containing %q", c.name, got.Phase, got.Value, got.Message, c.phase, c.value, c.msg)
		}
	}
	ep.mu.Lock()
	header := ep.last.Header.Get("X-Canary")
	ep.mu.Unlock()
	if header != "true" || ep.count() != len(cases) {
		t.Fatalf("endpoint saw %d requests (want %d), X-Canary %q", ep.count(), len(cases), header)
	}
}

// TestWebConformance runs the suite in wire and functional mode on the real nerve-web binary
// against a real endpoint, and the nerve-conformance command itself with a non-default --name.
func TestWebConformance(t *testing.T) {
	ep := startEndpoint(t, 200, `{"status":"pass","errorRate":0.001}`)
	bin := framework.Binary(t, "nerve-web")
	cfg, err := json.Marshal(map[string]any{"url": ep.URL, "jsonPath": "{$.errorRate}", "timeoutSeconds": 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, functional := range []bool{false, true} {
		t.Run(fmt.Sprintf("functional=%t", functional), func(t *testing.T) {
			rep, err := conformance.Run(t.Context(), bin, conformance.Options{Kind: plugins.KindMetricProvider, Name: web.DefaultName,
				Config: cfg, SuccessCondition: "result < 0.01", FailureCondition: "result >= 0.01", Functional: functional})
			if err != nil {
				t.Fatalf("conformance.Run: %v", err)
			}
			var out bytes.Buffer
			_ = rep.Write(&out)
			t.Logf("conformance (functional=%t):\n%s", functional, out.String())
			if !rep.Passed() || !strings.Contains(out.String(), `phase=Successful value="0.001"`) {
				t.Fatalf("conformance failed:\n%s", out.String())
			}
		})
	}
	t.Run("nerve-conformance CLI", func(t *testing.T) {
		cmd := exec.CommandContext(t.Context(), framework.Binary(t, "nerve-conformance"), "--kind", "metricprovider", "--name", "e2e/web-cli",
			"--config", string(cfg), "--functional", "--success-condition", "result < 0.01", bin, "--", "--name", "e2e/web-cli")
		out, err := cmd.CombinedOutput()
		t.Logf("nerve-conformance --functional:\n%s", out)
		if err != nil {
			t.Fatalf("nerve-conformance: %v", err)
		}
	})
}
