//go:build e2e

package argo

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// TestDryRunAllMetricsArgoVsNerve: Argo's documented dryRun `metricName: .*` dry-runs every
// metric: a bad gauge fails the metric, yet the run is Successful and the canary is promoted,
// under the real Argo controller and under nerve's loop, with the same phases and messages.
func TestDryRunAllMetricsArgoVsNerve(t *testing.T) {
	cases := []analysisCase{{name: "dry-run-bad", value: 0.02, runPhase: v1alpha1.AnalysisPhaseSuccessful, phase: v1alpha1.RolloutPhaseHealthy}}
	compareOutcomes(t, false, cases, func(t *testing.T, kind controllerKind, c analysisCase) outcome {
		s := newSuite(t, kind)
		g, query := framework.StartGaugeTarget(t, "nerve_e2e_argo_gate", "nerve-e2e-argo-"+s.ns)
		g.Set(c.value)
		framework.WaitForPromValue(t, query, c.value)
		s.env.Apply(t, strings.Replace(templateYAML(framework.PrometheusURL(t), query), "spec:\n", "spec:\n  dryRun:\n  - metricName: .*\n", 1))
		s.env.Apply(t, rolloutYAML("gated", "", gateSteps))
		var v1 string
		s.waitRollout("gated", 90*time.Second, "initial deploy healthy", healthyAt(&v1))
		s.setImage("gated", "v2")
		return s.analysisOutcome("gated", v1, c)
	})
}

// missingPluginTemplate is prom-gate on a metric-provider plugin nobody registered.
const missingPluginTemplate = `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: prom-gate
spec:
  metrics:
  - name: prom-value
    interval: 1s
    count: 2
    successCondition: "result[0] < 0.005"
    provider:
      plugin:
        acme/missing: {query: up}
`

// TestMissingProviderPluginArgoVsNerve: a step analysis on a metric-provider plugin that is not
// registered. The two controllers differ here, on purpose (issue 20): Argo's runs the first
// revision (steps are skipped), starts the canary of the next one, takes traffic, and only then
// errors the run ("plugin acme/missing not configured in configmap" at every measurement, until
// consecutiveErrorLimit) and aborts; nerve refuses the Rollout up front with InvalidSpec naming
// the metric and the plugin to register, before any ReplicaSet exists. Both end Degraded with
// nothing promoted; the test asserts each controller's own messages.
func TestMissingProviderPluginArgoVsNerve(t *testing.T) {
	var mu sync.Mutex
	msgs := map[controllerKind]string{}
	t.Run("group", func(t *testing.T) {
		t.Run("argo", func(t *testing.T) {
			t.Parallel()
			s := newSuite(t, argoController)
			s.env.Apply(t, missingPluginTemplate)
			s.env.Apply(t, rolloutYAML("gated", "", gateSteps))
			var v1 string
			s.waitRollout("gated", 90*time.Second, "initial deploy healthy (steps skipped)", healthyAt(&v1))
			s.setImage("gated", "v2")
			run := s.waitRun(90 * time.Second)
			ro := s.waitRollout("gated", 90*time.Second, "aborted", func(ro *v1alpha1.Rollout) bool {
				return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
			})
			if run.Status.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(run.Status.Message, "plugin acme/missing not configured in configmap") ||
				!strings.Contains(ro.Status.Message, "RolloutAborted") || ro.Status.StableRS != v1 {
				t.Fatalf("argo: run %s %q; rollout %s %q stable %s (v1 %s)", run.Status.Phase, run.Status.Message, ro.Status.Phase, ro.Status.Message, ro.Status.StableRS, v1)
			}
			mu.Lock()
			msgs[argoController] = ro.Status.Message
			mu.Unlock()
		})
		t.Run("nerve", func(t *testing.T) {
			t.Parallel()
			s := newSuite(t, nerveController)
			s.env.Apply(t, missingPluginTemplate)
			s.env.Apply(t, rolloutYAML("gated", "", gateSteps))
			want := `InvalidSpec: The Rollout "gated" is invalid: spec.strategy.canary.steps[1].analysis.templates: Not found: AnalysisTemplate prom-gate: metric "prom-value": metric provider plugin "acme/missing" is not registered in argo-rollouts-config (metricProviderPlugins)`
			ro := s.waitRollout("gated", 60*time.Second, "InvalidSpec", func(ro *v1alpha1.Rollout) bool {
				return ro.Status.Phase == v1alpha1.RolloutPhaseDegraded && ro.Status.Message == want
			})
			rss, err := s.env.Client.AppsV1().ReplicaSets(s.ns).List(context.Background(), metav1.ListOptions{})
			if err != nil || len(rss.Items) != 0 {
				t.Fatalf("nerve: %d ReplicaSets (%v) for a Rollout refused up front", len(rss.Items), err)
			}
			if runs, err := s.runs(t.Context()); err != nil || len(runs) != 0 {
				t.Fatalf("nerve: %d AnalysisRuns (%v)", len(runs), err)
			}
			mu.Lock()
			msgs[nerveController] = ro.Status.Message
			mu.Unlock()
		})
	})
	t.Logf("difference (by design): argo aborts after the canary took traffic: %q; nerve refuses up front: %q", msgs[argoController], msgs[nerveController])
}
