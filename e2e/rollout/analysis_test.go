//go:build e2e

package rollout

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

const analysisSteps = `      - setWeight: 25
      - analysis:
          templates: [{templateName: health}]
          args: [{name: service, value: api}]
      - setWeight: 100
`

// TestAnalysisFailureAbortsToStable: a failing step analysis aborts the update: weight back to 0,
// canary Service back to stable, canary scaled down, phase Degraded. Retry with good values
// completes the update (a new AnalysisRun is created for the retried step).
func TestAnalysisFailureAbortsToStable(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.services("api", "api-stable", "api-canary")
	s.apply(templateYAML("health", "err-rate", "result[0] < 1", "", 3, 0))
	s.apply(rolloutYAML("api", 2, trafficCanary("api", analysisSteps)))
	var v1 string
	s.waitRollout("api", 60*time.Second, "initial deploy healthy", healthyAt(&v1))

	s.setValue("err-rate", "5")
	s.setImage("api", "v2")
	ro := s.waitRollout("api", 60*time.Second, "aborted", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
	v2 := ro.Status.CurrentPodHash
	if c := condition(ro, v1alpha1.RolloutProgressing); c == nil || c.Reason != "RolloutAborted" || !strings.Contains(c.Message, "err-rate") {
		t.Fatalf("Progressing condition after abort = %+v", c)
	}
	if !strings.HasPrefix(ro.Status.Message, "RolloutAborted: Rollout aborted update to revision 2") {
		t.Errorf("message %q", ro.Status.Message)
	}
	s.waitRollout("api", 30*time.Second, "weight 0 and canary scaled down", func(ro *v1alpha1.Rollout) bool {
		w := ro.Status.Canary.Weights
		return w != nil && w.Canary.Weight == 0 && ro.Status.UpdatedReplicas == 0 && ro.Status.StableRS == v1
	})
	s.checkSelector("api-canary", v1)
	s.checkSelector("api-stable", v1)
	ws := setWeights(s.calls(), v2)
	if len(ws) == 0 || ws[len(ws)-1] != 0 {
		t.Errorf("weights for %s = %v, want ending at 0", v2, ws)
	}

	s.setValue("err-rate", "0")
	s.patchStatus("api", `{"status":{"abort":false}}`)
	s.waitRollout("api", 90*time.Second, "retried update completes", healthyAt(nil))
	runs, err := s.runs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	phases := map[v1alpha1.AnalysisPhase]int{}
	for _, r := range runs {
		phases[r.Status.Phase]++
	}
	if phases[v1alpha1.AnalysisPhaseFailed] != 1 || phases[v1alpha1.AnalysisPhaseSuccessful] != 1 {
		t.Errorf("runs by phase %v, want one Failed and one Successful", phases)
	}
}

// TestInconclusivePauses: an Inconclusive step analysis pauses the rollout with
// InconclusiveAnalysisRun; promote skips the step and the update completes.
func TestInconclusivePauses(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.services("inc", "inc-stable", "inc-canary")
	s.apply(templateYAML("health", "latency", "result[0] < 1", "result[0] > 5", 2, 0))
	s.apply(rolloutYAML("inc", 2, trafficCanary("inc", analysisSteps)))
	s.waitRollout("inc", 60*time.Second, "initial deploy healthy", healthyAt(nil))
	s.setValue("latency", "3")
	s.setImage("inc", "v2")
	ro := s.waitRollout("inc", 60*time.Second, "paused on inconclusive analysis", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Phase == v1alpha1.RolloutPhasePaused && len(ro.Status.PauseConditions) > 0
	})
	if ro.Status.PauseConditions[0].Reason != v1alpha1.PauseReasonInconclusiveAnalysis || ro.Status.Message != "InconclusiveAnalysisRun" {
		t.Fatalf("pause %+v message %q", ro.Status.PauseConditions, ro.Status.Message)
	}
	if st := ro.Status.Canary.CurrentStepAnalysisRunStatus; st == nil || st.Status != v1alpha1.AnalysisPhaseInconclusive {
		t.Fatalf("currentStepAnalysisRunStatus %+v", st)
	}
	if ro.Status.Abort {
		t.Fatal("inconclusive must pause, not abort")
	}
	s.promote("inc")
	s.waitRollout("inc", 60*time.Second, "completes after promote", healthyAt(nil))
}

// TestBackgroundAnalysis: background analysis starts only at startingStep, runs while the
// canary progresses and aborts the update when it fails.
func TestBackgroundAnalysis(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.services("bg", "bg-stable", "bg-canary")
	s.apply(templateYAML("bg-health", "errors", "result[0] < 1", "", 0, 1))
	steps := `      - setWeight: 20
      - pause: {duration: 2s}
      - setWeight: 40
      - pause: {}
`
	bg := `      analysis:
        startingStep: 2
        templates: [{templateName: bg-health}]
        args: [{name: service, value: bg}]
`
	s.apply(rolloutYAML("bg", 2, trafficCanary("bg", steps, bg)))
	s.waitRollout("bg", 60*time.Second, "initial deploy healthy", healthyAt(nil))
	s.setImage("bg", "v2")
	s.waitRollout("bg", 30*time.Second, "at the timed pause", stepIs(1))
	if n := s.countRuns(t.Context(), v1alpha1.RolloutTypeBackgroundRunLabel); n != 0 {
		t.Fatalf("%d background runs before startingStep", n)
	}
	ro := s.waitRollout("bg", 60*time.Second, "background analysis running at the pause", func(ro *v1alpha1.Rollout) bool {
		st := ro.Status.Canary.CurrentBackgroundAnalysisRunStatus
		return stepIs(3)(ro) && st != nil && st.Status == v1alpha1.AnalysisPhaseRunning
	})
	if ro.Status.Abort {
		t.Fatal("aborted with good values")
	}
	s.setValue("errors", "7")
	ro = s.waitRollout("bg", 60*time.Second, "background failure aborts", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
	if n := s.countRuns(t.Context(), v1alpha1.RolloutTypeBackgroundRunLabel); n != 1 {
		t.Errorf("%d background runs, want 1", n)
	}
}

func (s *suite) countRuns(ctx context.Context, typ string) int {
	s.t.Helper()
	runs, err := s.runs(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	n := 0
	for _, r := range runs {
		if r.Labels[v1alpha1.RolloutTypeLabel] == typ {
			n++
		}
	}
	return n
}

var _ = metav1.Now
