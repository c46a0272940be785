package rollout

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
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
