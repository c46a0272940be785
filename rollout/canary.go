package rollout

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// canaryStrategy runs Argo's canary strategy on the shared context: steps (setWeight, pause,
// analysis, setCanaryScale, header and mirror routes), traffic through router plugins, the
// stable and canary Services, step and background analysis, and canary scaling. Its methods
// live in the canary_*.go files; the step arithmetic is the pure package rollout/canary.
type canaryStrategy struct {
	*rolloutCtx
}

// startRevision starts the steps from 0, clears the analysis status, and skips the steps when
// the template goes back to the stable one (or is the very first), or to a still scaled-up
// ReplicaSet within spec.rollbackWindow.
func (cs *canaryStrategy) startRevision(first bool) {
	st := &cs.status
	steps := int32(len(canary.Steps(cs.ro)))
	st.Canary.CurrentStepAnalysisRunStatus, st.Canary.CurrentBackgroundAnalysisRunStatus = nil, nil
	st.CurrentStepIndex = nil
	if steps > 0 {
		st.CurrentStepIndex = ptr.To[int32](0)
	}
	switch {
	case first:
		if steps > 0 {
			st.CurrentStepIndex = &steps
		}
		// Argo's promoteStable for the first revision (shouldFullPromote: "Initial deploy")
		cs.event("Normal", reasonCompleted, "Rollout completed update to revision %d (%s): Initial deploy", revisionOf(cs.newRS), st.CurrentPodHash)
	case st.StableRS == st.CurrentPodHash && steps > 0:
		cs.event("Normal", "SkipSteps", "Rollback to stable ReplicaSets")
		st.CurrentStepIndex = &steps
	case steps > 0 && cs.rollbackWithinWindow() && ptr.Deref(cs.newRS.Spec.Replicas, 0) > 0:
		cs.event("Normal", "SkipSteps", "Rollback to active ReplicaSets within RollbackWindow")
		st.CurrentStepIndex = &steps
	}
}

// progress runs the canary machinery in Argo's order. A newly inconclusive analysis stops it
// before any scaling.
func (cs *canaryStrategy) progress(ctx context.Context) error {
	if err := cs.reconcileServices(ctx); err != nil {
		return err
	}
	if err := cs.reconcileTraffic(ctx); err != nil {
		return err
	}
	if err := cs.reconcileAnalysis(ctx); err != nil {
		return err
	}
	if hasPause(cs.status.PauseConditions, v1alpha1.PauseReasonInconclusiveAnalysis) && !hasPause(cs.ro.Status.PauseConditions, v1alpha1.PauseReasonInconclusiveAnalysis) {
		cs.finishStatus()
		return nil
	}
	scaled, err := cs.reconcileReplicaSets(ctx)
	if err != nil {
		return err
	}
	if !scaled {
		cs.reconcilePauseStep()
	}
	cs.finishStatus()
	return nil
}

// scale is scaleRS with Argo's rule for the scale-down deadline: a full scale-down drops it,
// except for the canary an abort keeps up for abortScaleDownDelaySeconds.
func (cs *canaryStrategy) scale(ctx context.Context, rs *appsv1.ReplicaSet, n int32, mutate func(*appsv1.ReplicaSet)) (bool, error) {
	return cs.scaleRS(ctx, rs, n, func(cp *appsv1.ReplicaSet) {
		if n == 0 && !cs.delaysScaleDownOnAbort() {
			delete(cp.Annotations, v1alpha1.ScaleDownDeadlineAnnotationKey)
		}
		if mutate != nil {
			mutate(cp)
		}
	})
}

// reconcileServices points the stable Service at the stable ReplicaSet and the canary Service
// at the canary (at the stable after an abort), by injecting rollouts-pod-template-hash into
// their selectors. A Service is switched only to a ReplicaSet with available pods.
func (cs *canaryStrategy) reconcileServices(ctx context.Context) error {
	c := cs.ro.Spec.Strategy.Canary
	stable := cs.stableRS
	if stable == nil {
		stable = cs.newRS
	}
	if err := cs.pointService(ctx, c.StableService, stable); err != nil {
		return err
	}
	target := cs.newRS
	if cs.ro.Status.Abort && cs.stableRS != nil {
		target = cs.stableRS
	}
	return cs.pointService(ctx, c.CanaryService, target)
}

// delaysScaleDownOnAbort is Argo's shouldDelayScaleDownOnAbort: an aborted, traffic-routed
// canary with a stable ReplicaSet and a non-zero abortScaleDownDelaySeconds (explicitly set when
// dynamicStableScale is on).
func (cs *canaryStrategy) delaysScaleDownOnAbort() bool {
	c := cs.ro.Spec.Strategy.Canary
	if !cs.status.Abort || cs.stableRS == nil || c == nil || !cs.trafficRouted() {
		return false
	}
	if c.AbortScaleDownDelaySeconds != nil {
		return *c.AbortScaleDownDelaySeconds != 0
	}
	return !c.DynamicStableScale
}
