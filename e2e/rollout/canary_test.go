//go:build e2e

package rollout

import (
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

const fullSteps = `      - setWeight: 5
      - pause: {duration: 1s}
      - setWeight: 25
      - pause: {}
      - setWeight: 50
      - pause: {duration: 2}
      - setWeight: 100
`

// TestCanaryFullProgression: 5→25→50→100 with timed and indefinite pauses, promote at the
// indefinite pause, then a second revision promoted with promote-full. Checks the router call
// sequence (UpdateHash before SetWeight, weights never regress, RemoveManagedRoutes and weight 0
// after completion), the Service selectors, status as Argo writes it, and the metrics endpoint.
func TestCanaryFullProgression(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.services("web", "web-stable", "web-canary")
	s.apply(rolloutYAML("web", 4, trafficCanary("web", fullSteps)))
	var v1 string
	s.waitRollout("web", 60*time.Second, "initial deploy healthy", healthyAt(&v1))

	s.setImage("web", "v2")
	ro := s.waitRollout("web", 60*time.Second, "paused at the indefinite pause (step 3)", func(ro *v1alpha1.Rollout) bool {
		return stepIs(3)(ro) && ro.Status.Phase == v1alpha1.RolloutPhasePaused
	})
	v2 := ro.Status.CurrentPodHash
	if len(ro.Status.PauseConditions) != 1 || ro.Status.PauseConditions[0].Reason != v1alpha1.PauseReasonCanaryPauseStep || !ro.Status.ControllerPause {
		t.Fatalf("pause status = %+v controllerPause=%v", ro.Status.PauseConditions, ro.Status.ControllerPause)
	}
	if w := ro.Status.Canary.Weights; w == nil || w.Canary.Weight != 25 || w.Stable.Weight != 75 || w.Canary.PodTemplateHash != v2 || w.Stable.PodTemplateHash != v1 {
		t.Fatalf("weights at step 3 = %+v", w)
	}
	if ro.Status.Message != string(v1alpha1.PauseReasonCanaryPauseStep) || ro.Status.StableRS != v1 {
		t.Fatalf("message %q stableRS %q", ro.Status.Message, ro.Status.StableRS)
	}
	s.checkSelector("web-canary", v2)
	s.checkSelector("web-stable", v1)
	time.Sleep(1500 * time.Millisecond) // an indefinite pause stays paused
	if ro := s.waitRollout("web", time.Second, "still paused", stepIs(3)); ro.Status.Phase != v1alpha1.RolloutPhasePaused {
		t.Fatalf("phase %s after waiting at an indefinite pause", ro.Status.Phase)
	}

	s.promote("web")
	s.waitRollout("web", 90*time.Second, "v2 promoted to stable", healthyAt(nil))
	ro = s.waitRollout("web", 30*time.Second, "weights reset after completion", func(ro *v1alpha1.Rollout) bool {
		w := ro.Status.Canary.Weights
		return w != nil && w.Canary.Weight == 0 && w.Stable.PodTemplateHash == v2
	})
	s.checkSelector("web-stable", v2)
	weights := setWeights(s.calls(), v2)
	for _, want := range []int32{5, 25, 50, 100} {
		if !slices.Contains(weights, want) {
			t.Errorf("SetWeight %d never sent for %s: %v", want, v2, weights)
		}
	}
	checkNoRegression(t, weights[:slices.Index(weights, 100)+1])
	s.checkCompletionCalls(v2)

	// promote-full at the indefinite pause: the next revision skips its remaining steps.
	s.setImage("web", "v3")
	ro = s.waitRollout("web", 60*time.Second, "v3 paused at step 3", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.CurrentPodHash != v2 && stepIs(3)(ro) && ro.Status.Phase == v1alpha1.RolloutPhasePaused
	})
	v3 := ro.Status.CurrentPodHash
	s.patchStatus("web", `{"status":{"promoteFull":true}}`)
	ro = s.waitRollout("web", 90*time.Second, "v3 fully promoted", healthyAt(nil))
	if ro.Status.StableRS != v3 || ro.Status.PromoteFull || *ro.Status.CurrentStepIndex != 7 {
		t.Fatalf("after promote-full: stableRS=%s promoteFull=%v index=%d", ro.Status.StableRS, ro.Status.PromoteFull, *ro.Status.CurrentStepIndex)
	}
	if w := setWeights(s.calls(), v3); slices.Contains(w, 50) {
		t.Errorf("promote-full weights for %s = %v: the remaining steps were not skipped", v3, w)
	}
	s.checkMetrics()
}

// checkNoRegression: after the first non-zero weight, weights never decrease.
func checkNoRegression(t *testing.T, ws []int32) {
	t.Helper()
	for i := 1; i < len(ws); i++ {
		if ws[i] < ws[i-1] {
			t.Errorf("weight regressed %d → %d in %v", ws[i-1], ws[i], ws)
		}
	}
}

// checkCompletionCalls: after completion the router got RemoveManagedRoutes and SetWeight 0
// with the new stable hash as both canary and stable; every SetWeight follows an UpdateHash.
func (s *suite) checkCompletionCalls(stable string) {
	s.t.Helper()
	calls := s.calls()
	removed, zero := false, false
	prev := ""
	for _, c := range calls {
		if c.Method == "SetWeight" && prev != "UpdateHash" {
			s.t.Errorf("SetWeight not preceded by UpdateHash (previous call %s)", prev)
		}
		if c.Method == "RemoveManagedRoutes" {
			removed = true
		}
		if c.Method == "UpdateHash" && c.StableHash == stable && c.CanaryHash == stable {
			zero = true
		}
		prev = c.Method
	}
	if !removed || !zero {
		s.t.Errorf("after completion: RemoveManagedRoutes=%v UpdateHash(stable,stable)=%v", removed, zero)
	}
}

func (s *suite) checkSelector(svc, hash string) {
	s.t.Helper()
	got, err := s.env.Client.CoreV1().Services(s.ns).Get(s.t.Context(), svc, metav1.GetOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	if got.Spec.Selector[v1alpha1.DefaultRolloutUniqueLabelKey] != hash || got.Annotations[v1alpha1.ManagedByRolloutsKey] == "" {
		s.t.Errorf("service %s selector %v annotations %v, want hash %s", svc, got.Spec.Selector, got.Annotations, hash)
	}
}

func (s *suite) checkMetrics() {
	s.t.Helper()
	text := s.scrape()
	for _, want := range []string{`rollout_info{`, `rollout_phase{`, `rollout_reconcile_bucket{`, `controller_clientset_k8s_request_total{`, `rollout_info_replicas_available{`} {
		if !strings.Contains(text, want) {
			s.t.Errorf("metrics lack %s", want)
		}
	}
}
