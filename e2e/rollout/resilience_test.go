//go:build e2e

package rollout

import (
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

const restartSteps = `      - setWeight: 10
      - analysis:
          templates: [{templateName: health}]
          args: [{name: service, value: rs}]
      - setWeight: 40
      - pause: {duration: 2s}
      - setWeight: 70
      - analysis:
          templates: [{templateName: health}]
          args: [{name: service, value: rs}]
      - setWeight: 100
`

// TestControllerKilledAtEachStepResumes SIGKILLs the controller (and with it its plugin
// processes) as soon as each step becomes current and starts a new one. The update still
// completes, with exactly one AnalysisRun per analysis step and no traffic weight regression.
func TestControllerKilledAtEachStepResumes(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.services("rs", "rs-stable", "rs-canary")
	s.apply(templateYAML("health", "ok", "result[0] < 1", "", 3, 0))
	s.apply(rolloutYAML("rs", 2, trafficCanary("rs", restartSteps)))
	v1Hash := s.waitRollout("rs", 60*time.Second, "initial deploy healthy", healthyAt(nil)).Status.CurrentPodHash
	s.setImage("rs", "v2")
	var v2 string
	for i := int32(0); i < 7; i++ {
		ro := s.waitRollout("rs", 90*time.Second, "step current", func(ro *v1alpha1.Rollout) bool {
			reached := ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex >= i
			return reached && (ro.Status.StableRS != ro.Status.CurrentPodHash || ro.Status.CurrentPodHash != v1Hash)
		})
		v2 = ro.Status.CurrentPodHash
		if ro.Status.StableRS == ro.Status.CurrentPodHash {
			// A restarted controller can run the last steps (and complete the update) between two
			// polls; there is no later step left to kill it at.
			t.Logf("update completed before step %d could be observed; %d restarts done", i, i)
			break
		}
		t.Logf("step %d current (index %d): killing the controller", i, *ro.Status.CurrentStepIndex)
		s.restartController()
	}
	s.waitRollout("rs", 120*time.Second, "update completes across restarts", healthyAt(nil))
	runs, err := s.runs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	perStep := map[string]int{}
	for _, r := range runs {
		if r.Labels[v1alpha1.DefaultRolloutUniqueLabelKey] == v2 {
			perStep[r.Labels[v1alpha1.RolloutCanaryStepIndexLabel]]++
		}
	}
	if perStep["1"] != 1 || perStep["5"] != 1 || len(perStep) != 2 {
		t.Errorf("AnalysisRuns per step = %v, want exactly one for steps 1 and 5", perStep)
	}
	ws := setWeights(s.calls(), v2)
	end := slices.Index(ws, 100)
	if end < 0 {
		t.Fatalf("weight 100 never set: %v", ws)
	}
	checkNoRegression(t, ws[:end+1])
}

// TestPluginKilledIsRespawned kills the router plugin process mid-rollout; the host respawns it
// (a new pid re-runs InitPlugin) and the update completes.
func TestPluginKilledIsRespawned(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.services("pk", "pk-stable", "pk-canary")
	steps := `      - setWeight: 30
      - pause: {}
      - setWeight: 60
      - pause: {duration: 1s}
`
	s.apply(rolloutYAML("pk", 2, trafficCanary("pk", steps)))
	s.waitRollout("pk", 60*time.Second, "initial deploy healthy", healthyAt(nil))
	s.setImage("pk", "v2")
	s.waitRollout("pk", 60*time.Second, "paused at 30%", func(ro *v1alpha1.Rollout) bool {
		return stepIs(1)(ro) && ro.Status.Phase == v1alpha1.RolloutPhasePaused
	})
	calls := s.calls()
	pid := calls[len(calls)-1].Pid
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill plugin %d: %v", pid, err)
	}
	s.promote("pk")
	s.waitRollout("pk", 90*time.Second, "completes after the plugin was killed", healthyAt(nil))
	respawned := false
	for _, c := range s.calls() {
		if c.Pid != pid && c.Method == "InitPlugin" && c.Time.After(calls[len(calls)-1].Time) {
			respawned = true
		}
	}
	if !respawned {
		t.Error("no InitPlugin from a new plugin process after the kill")
	}
}
