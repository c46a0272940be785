package rollout

import (
	"fmt"
	"time"

	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// finishStatus advances steps, promotes or records the abort, as Argo's syncRolloutStatusCanary
// (whose conditions and phase the shared progress then writes).
func (cs *canaryStrategy) finishStatus() {
	st := &cs.status
	steps := int32(len(canary.Steps(cs.ro)))
	_, idx := canary.CurrentStep(cs.ro)
	if cs.ro.Status.PromoteFull || cs.rollbackWithinWindow() {
		st.PauseConditions, st.ControllerPause, st.Abort, st.AbortedAt = nil, false, false, nil
		if steps > 0 {
			idx = &steps
		}
	}
	switch {
	case cs.promotionReason(idx, steps) != "":
		cs.promote(cs.promotionReason(idx, steps), steps)
	case st.Abort:
		st.PauseConditions, st.ControllerPause = nil, false
		if steps > 0 {
			if st.StableRS == st.CurrentPodHash {
				st.CurrentStepIndex = &steps
			} else {
				st.CurrentStepIndex = ptr.To[int32](0)
			}
		}
		if !cs.ro.Status.Abort {
			cs.event("Warning", reasonAborted, "Rollout aborted update to revision %d", revisionOf(cs.ro))
		}
	default:
		st.CurrentStepIndex = cs.advance(idx, steps)
	}
}

// advance moves past the current step when it is complete.
func (cs *canaryStrategy) advance(idx *int32, steps int32) *int32 {
	if idx == nil || *idx >= steps || !cs.stepComplete() {
		return idx
	}
	step := canary.Steps(cs.ro)[*idx]
	next := *idx + 1
	cs.status.Canary.CurrentStepAnalysisRunStatus = nil
	cs.removePause(v1alpha1.PauseReasonCanaryPauseStep)
	if len(cs.status.PauseConditions) == 0 {
		cs.status.ControllerPause = false
	}
	cs.event("Normal", "RolloutStepCompleted", "Rollout step %d/%d completed (%s)", next, steps, canary.StepString(step))
	cs.requeueAfter(10 * time.Millisecond)
	return &next
}

func (cs *canaryStrategy) stepComplete() bool {
	if cs.ro.Spec.Paused || cs.status.Abort {
		return false
	}
	step, _ := canary.CurrentStep(cs.ro)
	if step == nil {
		return false
	}
	switch {
	case step.Pause != nil:
		return cs.pauseStepDone(step.Pause)
	case step.SetCanaryScale != nil:
		return canary.AtDesiredCounts(cs.ro, cs.newRS, cs.stableRS, cs.others, cs.status.Canary.Weights)
	case step.SetWeight != nil:
		if !canary.AtDesiredCounts(cs.ro, cs.newRS, cs.stableRS, cs.others, cs.status.Canary.Weights) {
			return false
		}
		w := cs.status.Canary.Weights
		if cs.trafficRouted() && (w == nil || w.Canary.Weight != *step.SetWeight || (w.Verified != nil && !*w.Verified)) {
			return false
		}
		return true
	case step.Analysis != nil:
		s := cs.status.Canary.CurrentStepAnalysisRunStatus
		return s != nil && s.Status == v1alpha1.AnalysisPhaseSuccessful
	case step.SetHeaderRoute != nil, step.SetMirrorRoute != nil:
		return true
	}
	return false
}

// promotionReason says why the canary becomes stable now ("" = not yet).
func (cs *canaryStrategy) promotionReason(idx *int32, steps int32) string {
	st := &cs.status
	if st.StableRS == st.CurrentPodHash || st.Abort || cs.newRS == nil {
		return ""
	}
	if cs.newRS.Status.AvailableReplicas < canary.Replicas(cs.ro) || cs.ro.Spec.Paused {
		return ""
	}
	if cs.ro.Status.PromoteFull {
		return "Full promotion requested"
	}
	if cs.rollbackWithinWindow() {
		return "Rollback within window"
	}
	if !(steps == 0 || (idx != nil && *idx == steps)) {
		return ""
	}
	if w := st.Canary.Weights; cs.trafficRouted() && (w == nil || w.Canary.Weight != canary.MaxWeight(cs.ro) || (w.Verified != nil && !*w.Verified)) {
		return ""
	}
	return fmt.Sprintf("Completed all %d canary steps", steps)
}

func (cs *canaryStrategy) promote(reason string, steps int32) {
	st := &cs.status
	st.PauseConditions, st.ControllerPause, st.Abort, st.AbortedAt, st.PromoteFull = nil, false, false, nil, false
	st.CurrentStepIndex = nil
	if steps > 0 {
		st.CurrentStepIndex = &steps
	}
	st.StableRS = st.CurrentPodHash
	cs.event("Normal", reasonCompleted, "Rollout completed update to revision %d (%s): %s", revisionOf(cs.newRS), st.CurrentPodHash, reason)
	cs.requeueAfter(10 * time.Millisecond)
}

// reconcilePauseStep adds the CanaryPauseStep pause when a pause step becomes current.
func (cs *canaryStrategy) reconcilePauseStep() {
	if cs.ro.Spec.Paused || cs.ro.Status.PromoteFull || cs.ro.Status.Abort {
		return
	}
	step, _ := canary.CurrentStep(cs.ro)
	if step == nil || step.Pause == nil {
		return
	}
	cond := pauseCond(cs.ro.Status.PauseConditions, v1alpha1.PauseReasonCanaryPauseStep)
	if cond == nil {
		if !cs.ro.Status.ControllerPause {
			cs.addPause(v1alpha1.PauseReasonCanaryPauseStep)
		}
		return
	}
	if d, ok, _ := canary.PauseDuration(step.Pause); ok {
		cs.requeueAt(cond.StartTime.Add(d))
	}
}

// pauseStepDone: a timed pause has expired, or the user promoted (condition removed while
// controllerPause is still set).
func (cs *canaryStrategy) pauseStepDone(p *v1alpha1.RolloutPause) bool {
	cond := pauseCond(cs.ro.Status.PauseConditions, v1alpha1.PauseReasonCanaryPauseStep)
	if d, ok, _ := canary.PauseDuration(p); ok && cond != nil {
		return !cs.c.now().Before(cond.StartTime.Add(d))
	}
	return cond == nil && cs.ro.Status.ControllerPause
}
