package rollout

import (
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// reconcilePause pauses the rollout (BlueGreenPause) once the new ReplicaSet is ready when the
// controller manages the promotion (autoPromotionEnabled false or autoPromotionSeconds > 0), and
// ends the pause when autoPromotionSeconds have passed (Argo's reconcileBlueGreenPause). The user
// ends it with promote (pause condition removed while controllerPause is still set).
func (bs *blueGreenStrategy) reconcilePause() {
	if bs.ro.Status.Abort || !bs.readyForPause() || bs.haltProgress() {
		return
	}
	if bs.fastTracked() || selectorOf(bs.active) == rsHash(bs.newRS) || bs.ro.Status.BlueGreen.ScaleUpPreviewCheckPoint || !bs.controllerManagesPause() {
		bs.removePause(v1alpha1.PauseReasonBlueGreenPause)
		return
	}
	if !bs.completedPrePromotion() {
		return
	}
	cond := pauseCond(bs.ro.Status.PauseConditions, v1alpha1.PauseReasonBlueGreenPause)
	switch {
	case cond == nil && !bs.ro.Status.ControllerPause:
		bs.addPause(v1alpha1.PauseReasonBlueGreenPause)
		bs.addedPause = true
		if s := bs.spec().AutoPromotionSeconds; s > 0 && bs.autoPromotion() {
			bs.requeueAfter(secondsDur(s))
		}
	case cond == nil:
	case bs.completedPause():
		bs.removePause(v1alpha1.PauseReasonBlueGreenPause)
	case bs.spec().AutoPromotionSeconds > 0 && bs.autoPromotion():
		bs.requeueAt(cond.StartTime.Add(secondsDur(bs.spec().AutoPromotionSeconds)).Add(10 * time.Millisecond))
	}
}

// controllerManagesPause is Argo's needsBlueGreenControllerPause.
func (bs *blueGreenStrategy) controllerManagesPause() bool {
	return !bs.autoPromotion() || bs.spec().AutoPromotionSeconds > 0
}

// autoPromotion is autoPromotionEnabled (default true).
func (bs *blueGreenStrategy) autoPromotion() bool {
	return ptr.Deref(bs.spec().AutoPromotionEnabled, true)
}

// completedPause is Argo's CompletedBlueGreenPause: the automated pause is over because the
// user promoted, autoPromotionSeconds passed, or there is nothing to wait for.
func (bs *blueGreenStrategy) completedPause() bool {
	cond := pauseCond(bs.ro.Status.PauseConditions, v1alpha1.PauseReasonBlueGreenPause)
	switch {
	case bs.addedPause:
		return false
	case bs.ro.Status.BlueGreen.ScaleUpPreviewCheckPoint:
		return true
	case bs.autoPromotion():
		s := bs.spec().AutoPromotionSeconds
		if s == 0 {
			return true
		}
		return cond != nil && bs.c.now().After(cond.StartTime.Add(secondsDur(s)))
	}
	return bs.ro.Status.ControllerPause && cond == nil
}

// completedPrePromotion: no prePromotionAnalysis, or its current run succeeded.
func (bs *blueGreenStrategy) completedPrePromotion() bool {
	return bs.spec().PrePromotionAnalysis == nil || (bs.pre != nil && bs.pre.Status.Phase == v1alpha1.AnalysisPhaseSuccessful)
}

// fastTracked is Argo's isBlueGreenFastTracked: no pause for a fast rollback, a full promotion,
// an active Service not yet managed, or one already on the new ReplicaSet.
func (bs *blueGreenStrategy) fastTracked() bool {
	if bs.fastRollback() || bs.ro.Status.PromoteFull {
		return true
	}
	cur, ok := bs.active.Spec.Selector[v1alpha1.DefaultRolloutUniqueLabelKey]
	return !ok || cur == rsHash(bs.newRS)
}

// haltProgress: spec.paused or an inconclusive analysis stop the Service switches.
func (bs *blueGreenStrategy) haltProgress() bool {
	return bs.ro.Spec.Paused || hasPause(bs.ro.Status.PauseConditions, v1alpha1.PauseReasonInconclusiveAnalysis)
}

// desiredNewReplicas is Argo's NewRSNewReplicas for blueGreen: the Rollout's replicas, or
// previewReplicaCount while the new ReplicaSet is only previewed.
func (bs *blueGreenStrategy) desiredNewReplicas() int32 {
	want := canary.Replicas(bs.ro)
	prc := bs.spec().PreviewReplicaCount
	if prc == nil || bs.newRS == nil {
		return want
	}
	st := bs.ro.Status
	activeRS := rsByHash(bs.all, st.BlueGreen.ActiveSelector)
	switch {
	case activeRS == nil || activeRS.Name == bs.newRS.Name, st.PromoteFull:
		return want
	case rsHash(bs.newRS) != st.CurrentPodHash:
		return *prc
	case !bs.ro.Spec.Paused && len(st.PauseConditions) == 0 && st.BlueGreen.ScaleUpPreviewCheckPoint:
		return want
	}
	return *prc
}

// readyForPause: the new ReplicaSet is at its desired size and all of it is available.
func (bs *blueGreenStrategy) readyForPause() bool {
	if bs.newRS == nil {
		return false
	}
	n := bs.desiredNewReplicas()
	return ptr.Deref(bs.newRS.Spec.Replicas, 0) == n && bs.newRS.Status.AvailableReplicas == n
}

// saturated is Argo's annotations.IsSaturated: rs runs, wants and has all the Rollout's
// replicas available.
func saturated(ro *v1alpha1.Rollout, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	desired, err := strconv.ParseInt(rs.Annotations[DesiredReplicasAnnotation], 10, 32)
	if err != nil {
		return false
	}
	n := canary.Replicas(ro)
	return ptr.Deref(rs.Spec.Replicas, 0) == n && int32(desired) == n && rs.Status.AvailableReplicas == n
}

// scaleUpPreviewCheckPoint is Argo's one-way trip-wire for previewReplicaCount: set once the
// pause and prePromotionAnalysis are done and the preview count is available, kept until the
// new ReplicaSet becomes stable or the template changes.
func (bs *blueGreenStrategy) scaleUpPreviewCheckPoint() bool {
	prc := bs.spec().PreviewReplicaCount
	switch {
	case prc == nil:
		return false
	case bs.ro.Status.BlueGreen.ScaleUpPreviewCheckPoint:
		return true
	case !bs.completedPrePromotion() || !bs.completedPause() || bs.newRS == nil:
		return false
	}
	return *prc == bs.newRS.Status.AvailableReplicas
}
