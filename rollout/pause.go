package rollout

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

func hasPause(conds []v1alpha1.PauseCondition, r v1alpha1.PauseReason) bool {
	return pauseCond(conds, r) != nil
}

func pauseCond(conds []v1alpha1.PauseCondition, r v1alpha1.PauseReason) *v1alpha1.PauseCondition {
	for i := range conds {
		if conds[i].Reason == r {
			return &conds[i]
		}
	}
	return nil
}

// addPause adds a controller pause condition (and controllerPause) to the new status.
func (rc *rolloutCtx) addPause(r v1alpha1.PauseReason) {
	if hasPause(rc.status.PauseConditions, r) {
		return
	}
	rc.status.PauseConditions = append(rc.status.PauseConditions, v1alpha1.PauseCondition{Reason: r, StartTime: metav1.NewTime(rc.c.now())})
	rc.status.ControllerPause = true
	rc.event("Normal", "RolloutPaused", "Rollout is paused (%s)", r)
}

func (rc *rolloutCtx) removePause(r v1alpha1.PauseReason) {
	out := rc.status.PauseConditions[:0]
	for _, p := range rc.status.PauseConditions {
		if p.Reason != r {
			out = append(out, p)
		}
	}
	rc.status.PauseConditions = out
	if len(out) == 0 {
		rc.status.PauseConditions = nil
	}
}

// abort marks the Rollout aborted in the new status.
func (rc *rolloutCtx) abort(msg string) {
	if rc.status.Abort {
		return
	}
	rc.status.Abort = true
	now := metav1.NewTime(rc.c.now())
	rc.status.AbortedAt = &now
	rc.abortMsg = msg
	rc.requeueAfter(10 * time.Millisecond)
}

// reconcilePauseStep adds the CanaryPauseStep pause when a pause step becomes current.
func (rc *rolloutCtx) reconcilePauseStep() {
	if rc.ro.Spec.Paused || rc.ro.Status.PromoteFull || rc.ro.Status.Abort {
		return
	}
	step, _ := canary.CurrentStep(rc.ro)
	if step == nil || step.Pause == nil {
		return
	}
	cond := pauseCond(rc.ro.Status.PauseConditions, v1alpha1.PauseReasonCanaryPauseStep)
	if cond == nil {
		if !rc.ro.Status.ControllerPause {
			rc.addPause(v1alpha1.PauseReasonCanaryPauseStep)
		}
		return
	}
	if d, ok, _ := canary.PauseDuration(step.Pause); ok {
		rc.requeueAt(cond.StartTime.Add(d))
	}
}

// pauseStepDone: a timed pause has expired, or the user promoted (condition removed while
// controllerPause is still set).
func (rc *rolloutCtx) pauseStepDone(p *v1alpha1.RolloutPause) bool {
	cond := pauseCond(rc.ro.Status.PauseConditions, v1alpha1.PauseReasonCanaryPauseStep)
	if d, ok, _ := canary.PauseDuration(p); ok && cond != nil {
		return !rc.c.now().Before(cond.StartTime.Add(d))
	}
	return cond == nil && rc.ro.Status.ControllerPause
}
