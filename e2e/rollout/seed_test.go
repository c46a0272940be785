//go:build e2e

package rollout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// TestSeedRollout runs the completed seed (a replica-based canary: no trafficRouting) with the
// test metric plugin registered as nerve/prometheus, so the template's provider.prometheus
// blocks run unchanged through a plugin. Good values: every step passes (the long pauses are
// promoted, as an operator would), with {{args.service-name}} substituted before the provider
// call. Bad values: the first step analysis fails and the update aborts back to stable.
func TestSeedRollout(t *testing.T) {
	t.Parallel()
	s := newSuite(t, "nerve/prometheus")
	b, err := os.ReadFile(filepath.Join("testdata", "seed-completed.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s.setValue("ack-latency", "0.001")
	s.setValue("error-rate", "0.001")
	s.apply(string(b))
	var v1 string
	s.waitRollout("mllp-listener", 60*time.Second, "initial deploy healthy", healthyAt(&v1))

	s.setImage("mllp-listener", "v2")
	for _, pause := range []int32{1, 4, 7} {
		ro := s.waitRollout("mllp-listener", 90*time.Second, "at a pause step", func(ro *v1alpha1.Rollout) bool {
			return stepIs(pause)(ro) && len(ro.Status.PauseConditions) > 0
		})
		if ro.Status.Abort {
			t.Fatalf("aborted with good values: %s", ro.Status.Message)
		}
		if pause == 1 && (ro.Status.UpdatedReplicas != 1 || ro.Status.Replicas < 4) {
			t.Errorf("at 5%% of 4 replicas: updated=%d total=%d, want 1 canary", ro.Status.UpdatedReplicas, ro.Status.Replicas)
		}
		s.promote("mllp-listener")
	}
	s.waitRollout("mllp-listener", 90*time.Second, "v2 promoted", healthyAt(nil))
	calls, err := os.ReadFile(filepath.Join(s.valuesDir, "calls.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(calls), `service=\"mllp-listener\"`) || strings.Contains(string(calls), "{{args") {
		t.Errorf("provider calls lack the substituted query:\n%.600s", calls)
	}

	s.setValue("error-rate", "0.2")
	s.setImage("mllp-listener", "v3")
	// the background analysis (from step 0) or the first step analysis (after the promoted
	// pause) fails first, whichever runs first.
	ro := s.waitRollout("mllp-listener", 60*time.Second, "bad error rate aborts", func(ro *v1alpha1.Rollout) bool {
		if stepIs(1)(ro) && len(ro.Status.PauseConditions) > 0 {
			s.promote("mllp-listener")
		}
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
	if !strings.Contains(ro.Status.Message, "error-rate") {
		t.Errorf("abort message %q does not name the failed metric", ro.Status.Message)
	}
	s.waitRollout("mllp-listener", 60*time.Second, "back to stable: canary scaled down", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.UpdatedReplicas == 0 && ro.Status.AvailableReplicas == 4 && ro.Status.StableRS != ro.Status.CurrentPodHash
	})
}
