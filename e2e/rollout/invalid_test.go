//go:build e2e

package rollout

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// TestInvalidSpecs: each invalid Rollout gets an InvalidSpec condition (and phase Degraded)
// with a precise message, and nothing is applied (no ReplicaSet). Registering the missing
// router plugin in argo-rollouts-config clears the error without a controller restart.
func TestInvalidSpecs(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.services("x", "svc-stable", "svc-canary")
	s.apply(`apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: needs-arg}
spec:
  args: [{name: service}]
  metrics:
  - name: m
    provider: {plugin: {e2e/metric: {q: "{{args.service}}"}}}
`)
	svcs := "      canaryService: svc-canary\n      stableService: svc-stable\n"
	cases := []struct{ name, canary, want string }{
		{"unknown-step", "      steps:\n      - setWeight: 10\n      - {}\n", "spec.strategy.canary.steps[1]: Invalid value: a step must set exactly one of"},
		{"weight-over-max", svcs + "      trafficRouting:\n        maxTrafficWeight: 50\n        plugins: {e2e/record: {}}\n      steps:\n      - setWeight: 60\n", "spec.strategy.canary.steps[0].setWeight: Invalid value: 60: must be between 0 and maxTrafficWeight (50)"},
		{"missing-service", "      canaryService: nope\n      stableService: svc-stable\n      steps:\n      - setWeight: 10\n", `spec.strategy.canary.canaryService: Invalid value: "nope": service "nope" not found`},
		{"unknown-plugin", svcs + "      trafficRouting:\n        plugins: {e2e/late: {}}\n      steps:\n      - setWeight: 10\n", `traffic router plugin "e2e/late" is not registered`},
		{"bad-template", "      steps:\n      - analysis: {templates: [{templateName: nope}]}\n", `spec.strategy.canary.steps[0].analysis: Invalid value: AnalysisTemplate "nope": not found`},
		{"unresolvable-arg", "      steps:\n      - analysis: {templates: [{templateName: needs-arg}]}\n", "args.service was not resolved"},
		{"istio", svcs + "      trafficRouting:\n        istio: {virtualService: {name: vs}}\n        plugins: {e2e/record: {}}\n      steps:\n      - setWeight: 10\n",
			"spec.strategy.canary.trafficRouting.istio: Unsupported value: nerve does not implement Argo's built-in istio router"},
		{"experiment", "      steps:\n      - experiment: {templates: [{name: a, specRef: canary}]}\n", "spec.strategy.canary.steps[0].experiment: Unsupported value: nerve has no Experiment controller, so experiment steps are refused"},
	}
	for _, c := range cases {
		s.apply(rolloutYAML(c.name, 1, c.canary))
	}
	s.apply(`apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: bluegreen}
spec:
  selector: {matchLabels: {app: bg}}
  template: {metadata: {labels: {app: bg}}, spec: {containers: [{name: a, image: registry.k8s.io/pause:3.10}]}}
  strategy: {blueGreen: {activeService: svc-stable, previewService: svc-stable}}
`)
	cases = append(cases, struct{ name, canary, want string }{"bluegreen", "",
		`spec.strategy.activeService: Invalid value: "svc-stable": This rollout uses the same service for the active and preview services, but two different services are required.`})
	for _, c := range cases {
		ro := s.waitRollout(c.name, 30*time.Second, "InvalidSpec", func(ro *v1alpha1.Rollout) bool {
			return condition(ro, v1alpha1.InvalidSpec) != nil
		})
		cond := condition(ro, v1alpha1.InvalidSpec)
		if !strings.Contains(cond.Message, c.want) || cond.Reason != "InvalidSpec" || ro.Status.Phase != v1alpha1.RolloutPhaseDegraded {
			t.Errorf("%s: InvalidSpec %q (phase %s), want it to contain %q", c.name, cond.Message, ro.Status.Phase, c.want)
		}
	}
	rss, err := s.env.Client.AppsV1().ReplicaSets(s.ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rss.Items) != 0 {
		t.Errorf("%d ReplicaSets created for invalid Rollouts", len(rss.Items))
	}
	// hot reload: register e2e/late (the recording router again) and the Rollout becomes valid.
	s.registerLateRouter()
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		ro, err := s.rollout(ctx, "unknown-plugin")
		if err != nil {
			return false, err
		}
		if condition(ro, v1alpha1.InvalidSpec) != nil {
			return false, fmt.Errorf("still invalid: %s", ro.Status.Message)
		}
		return ro.Status.Phase == v1alpha1.RolloutPhaseHealthy, nil
	}, "unknown-plugin Rollout valid and healthy after the ConfigMap registered the plugin")
}
