//go:build e2e

package rollout

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// promPluginName is the name the core loop rewrites a built-in provider.prometheus block to.
const promPluginName = "nerve/prometheus"

// promSteps is the canary body of both tests: replica-based (no trafficRouting), 50% then one
// step analysis.
const promSteps = `      steps:
      - setWeight: 50
      - analysis:
          templates: [{templateName: prom-gate}]
`

// newPromSuite starts a controller whose argo-rollouts-config registers only the real
// bin/plugins/nerve-prometheus binary as nerve/prometheus (with its real sha256). The binary is
// copied first so a concurrent `make build` cannot change it under the sha256 check.
func newPromSuite(t *testing.T) *suite {
	t.Helper()
	env := framework.New(t)
	s := &suite{t: t, env: env, ns: env.Namespace, recordFile: filepath.Join(t.TempDir(), "router.jsonl"), valuesDir: t.TempDir()}
	bin := framework.CopyBinary(t, framework.Binary(t, "nerve-prometheus"))
	entry := fmt.Sprintf("- name: %s\n  location: file://%s\n  sha256: %s\n", promPluginName, bin, sha(t, bin))
	cm := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "argo-rollouts-config", "namespace": s.ns},
		"data":     map[string]string{"metricProviderPlugins": entry},
	}
	b, err := json.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	env.Apply(t, string(b))
	s.startController()
	return s
}

// promTemplateYAML is the prom-gate AnalysisTemplate with one metric on the BUILT-IN
// provider.prometheus block; extra holds further metric fields (indented four spaces).
func promTemplateYAML(address, query, success, extra string) string {
	return fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: prom-gate
spec:
  metrics:
  - name: prom-value
    interval: 1s
    successCondition: %q
%s    provider:
      prometheus:
        address: %q
        query: %q
        timeout: 5
`, success, extra, address, query)
}

// closedAddr returns a 127.0.0.1 address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// onlyRun returns the single AnalysisRun of the namespace.
func (s *suite) onlyRun() v1alpha1.AnalysisRun {
	s.t.Helper()
	runs, err := s.runs(s.t.Context())
	if err != nil {
		s.t.Fatal(err)
	}
	if len(runs) != 1 {
		s.t.Fatalf("%d AnalysisRuns, want 1", len(runs))
	}
	return runs[0]
}

func logRun(t *testing.T, run v1alpha1.AnalysisRun) {
	t.Helper()
	t.Logf("AnalysisRun %s: phase=%s message=%q", run.Name, run.Status.Phase, run.Status.Message)
	for _, r := range run.Status.MetricResults {
		t.Logf("  metric %s: phase=%s count=%d successful=%d error=%d consecutiveError=%d message=%q",
			r.Name, r.Phase, r.Count, r.Successful, r.Error, r.ConsecutiveError, r.Message)
		for _, m := range r.Measurements {
			t.Logf("    measurement phase=%s value=%q message=%q", m.Phase, m.Value, m.Message)
		}
	}
}

// TestPrometheusBuiltinProviderSuccess: a template's built-in provider.prometheus block runs
// through the real nerve-prometheus plugin against the real local Prometheus; a passing value
// makes the step AnalysisRun Successful and the Rollout completes Healthy.
func TestPrometheusBuiltinProviderSuccess(t *testing.T) {
	t.Parallel()
	s := newPromSuite(t)
	gauge, query := framework.StartGaugeTarget(t, "nerve_e2e_rollout_gate", "nerve-e2e-rollout-"+s.ns)
	gauge.Set(0.002)
	framework.WaitForPromValue(t, query, 0.002)

	s.apply(promTemplateYAML(framework.PrometheusURL(t), query, "result[0] < 0.005", "    count: 2\n"))
	s.apply(rolloutYAML("prom-ok", 2, promSteps))
	var v1 string
	s.waitRollout("prom-ok", 60*time.Second, "initial deploy healthy", healthyAt(&v1))
	s.setImage("prom-ok", "v2")
	ro := s.waitRollout("prom-ok", 90*time.Second, "v2 promoted after the analysis", func(ro *v1alpha1.Rollout) bool {
		return healthyAt(nil)(ro) && ro.Status.StableRS != v1
	})
	if ro.Status.Abort {
		t.Fatalf("aborted: %s", ro.Status.Message)
	}
	run := s.onlyRun()
	logRun(t, run)
	if run.Status.Phase != v1alpha1.AnalysisPhaseSuccessful || len(run.Status.MetricResults) != 1 {
		t.Fatalf("run phase %s, %d metric results; want Successful, 1", run.Status.Phase, len(run.Status.MetricResults))
	}
	r := run.Status.MetricResults[0]
	if r.Phase != v1alpha1.AnalysisPhaseSuccessful || r.Successful != 2 || r.Error != 0 || len(r.Measurements) != 2 {
		t.Fatalf("metric result %+v; want Successful with 2 successful measurements", r)
	}
	for _, m := range r.Measurements {
		if m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Value != "[0.002]" || !strings.Contains(m.Message, query) {
			t.Errorf("measurement phase=%s value=%q message=%q; want Successful [0.002] naming the query", m.Phase, m.Value, m.Message)
		}
	}
}

// TestPrometheusDownConsecutiveErrors: with Prometheus unreachable every measurement is an
// Error (never Successful); with interval 1s the loop retries each second, so after 3 errors
// consecutiveErrorLimit 2 is exceeded, the AnalysisRun ends in Error and the Rollout aborts.
func TestPrometheusDownConsecutiveErrors(t *testing.T) {
	t.Parallel()
	s := newPromSuite(t)
	addr := "http://" + closedAddr(t)
	s.apply(promTemplateYAML(addr, "up", "result[0] == 1", "    count: 10\n    consecutiveErrorLimit: 2\n"))
	s.apply(rolloutYAML("prom-down", 2, promSteps))
	var v1 string
	s.waitRollout("prom-down", 60*time.Second, "initial deploy healthy", healthyAt(&v1))
	s.setImage("prom-down", "v2")
	ro := s.waitRollout("prom-down", 60*time.Second, "aborted by the Error analysis", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
	t.Logf("Rollout: phase=%s abort=%v message=%q", ro.Status.Phase, ro.Status.Abort, ro.Status.Message)
	if ro.Status.StableRS != v1 {
		t.Errorf("stableRS %s after abort, want %s", ro.Status.StableRS, v1)
	}
	run := s.onlyRun()
	logRun(t, run)
	if run.Status.Phase != v1alpha1.AnalysisPhaseError || len(run.Status.MetricResults) != 1 {
		t.Fatalf("run phase %s, %d metric results; want Error, 1", run.Status.Phase, len(run.Status.MetricResults))
	}
	r := run.Status.MetricResults[0]
	if r.Phase != v1alpha1.AnalysisPhaseError || r.Error != 3 || r.ConsecutiveError != 3 || r.Successful != 0 || r.Count != 0 || len(r.Measurements) != 3 {
		t.Fatalf("metric result phase=%s error=%d consecutiveError=%d successful=%d count=%d measurements=%d; want Error 3 3 0 0 3",
			r.Phase, r.Error, r.ConsecutiveError, r.Successful, r.Count, len(r.Measurements))
	}
	// Argo's messages: the run names the breached limit and embeds the metric's message, which
	// is its last measurement's (the provider error).
	if !strings.Contains(run.Status.Message, "assessed Error due to consecutiveErrors (3) > consecutiveErrorLimit (2): \"Error Message: ") {
		t.Errorf("run message %q does not name consecutiveErrorLimit (2) and embed the error", run.Status.Message)
	}
	if r.Message != r.Measurements[len(r.Measurements)-1].Message || !strings.Contains(r.Message, addr) {
		t.Errorf("metric message %q is not the last measurement's error naming %s", r.Message, addr)
	}
	for _, m := range r.Measurements {
		if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, addr) || strings.Contains(m.Message, "Successful") {
			t.Errorf("measurement phase=%s message=%q; want Error naming %s, never Successful", m.Phase, m.Message, addr)
		}
	}
}
