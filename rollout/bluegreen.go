package rollout

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// blueGreenStrategy runs Argo's blueGreen strategy on the shared context: the new ReplicaSet
// comes up at full size (or previewReplicaCount) behind previewService, the rollout pauses when
// auto-promotion is off or delayed (BlueGreenPause), prePromotionAnalysis gates the switch, the
// active Service is switched only to a fully available ReplicaSet, postPromotionAnalysis gates
// the new stable, and the old ReplicaSet stays up for scaleDownDelaySeconds. Its methods live in
// the bluegreen_*.go files.
type blueGreenStrategy struct {
	*rolloutCtx

	active, preview *corev1.Service // copies, updated as their selectors are switched
	pre, post       *v1alpha1.AnalysisRun
	// addedPause: the BlueGreenPause was added in this reconcile (Argo's HasAddPause).
	addedPause bool
	// newWithinDelay: the new ReplicaSet had an unexpired scale-down deadline when the reconcile
	// began (it is removed during it): a rollback to it is fast.
	newWithinDelay bool
}

func (bs *blueGreenStrategy) spec() *v1alpha1.BlueGreenStrategy { return bs.ro.Spec.Strategy.BlueGreen }

// startRevision clears the analysis state and the preview checkpoint, and records the Services'
// selectors as they are (Argo's resetRolloutStatus, then syncRolloutStatusBlueGreen).
func (bs *blueGreenStrategy) startRevision(bool) {
	st := &bs.status
	st.BlueGreen.PrePromotionAnalysisRunStatus, st.BlueGreen.PostPromotionAnalysisRunStatus = nil, nil
	st.BlueGreen.ScaleUpPreviewCheckPoint = false
	st.Canary = v1alpha1.CanaryStatus{}
	st.CurrentStepIndex = nil
	if err := bs.loadServices(); err == nil {
		st.BlueGreen.ActiveSelector, st.BlueGreen.PreviewSelector = selectorOf(bs.active), selectorOf(bs.preview)
	}
}

// progress runs the blueGreen reconcile in Argo's order (rolloutBlueGreen).
func (bs *blueGreenStrategy) progress(ctx context.Context) error {
	if err := bs.loadServices(); err != nil {
		return err
	}
	if left, ok := bs.scaleDownRemaining(bs.newRS); ok && left > 0 {
		bs.newWithinDelay = true
	}
	runs, err := bs.runsOf()
	if err != nil {
		return err
	}
	bs.pre = runNamed(runs, bs.ro.Status.BlueGreen.PrePromotionAnalysisRunStatus)
	bs.post = runNamed(runs, bs.ro.Status.BlueGreen.PostPromotionAnalysisRunStatus)
	if err := bs.syncAntiAffinity(ctx); err != nil {
		return err
	}
	if err := bs.reconcilePreviewService(ctx); err != nil {
		return err
	}
	if err := bs.reconcileReplicaSets(ctx); err != nil {
		return err
	}
	bs.reconcilePause()
	if err := bs.reconcileActiveService(ctx); err != nil {
		return err
	}
	if err := bs.reconcileAnalysis(ctx, runs); err != nil {
		return err
	}
	bs.finishStatus()
	return nil
}

// loadServices reads the active and preview Services from the cache.
func (bs *blueGreenStrategy) loadServices() error {
	get := func(name string) (*corev1.Service, error) {
		svc, err := bs.c.svcLister.Services(bs.ro.Namespace).Get(name)
		if err != nil {
			return nil, fmt.Errorf("service %q: %w", name, err)
		}
		return svc.DeepCopy(), nil
	}
	var err error
	bs.preview = nil
	if name := bs.spec().PreviewService; name != "" {
		if bs.preview, err = get(name); err != nil {
			return err
		}
	}
	bs.active, err = get(bs.spec().ActiveService)
	return err
}

func selectorOf(svc *corev1.Service) string {
	if svc == nil {
		return ""
	}
	return svc.Spec.Selector[v1alpha1.DefaultRolloutUniqueLabelKey]
}

// finishStatus is Argo's syncRolloutStatusBlueGreen: the Services' selectors, promotion to
// stable or the preview checkpoint, the pause and abort fields, and the replica counts of the
// ReplicaSet the active Service selects.
func (bs *blueGreenStrategy) finishStatus() {
	st := &bs.status
	if bs.ro.Status.PromoteFull || bs.rollbackWithinWindow() {
		bs.clearPauseAndAbort()
	}
	st.BlueGreen.PreviewSelector, st.BlueGreen.ActiveSelector = selectorOf(bs.preview), selectorOf(bs.active)
	if reason := bs.promotionReason(); reason != "" {
		bs.promote(reason)
	} else {
		st.BlueGreen.ScaleUpPreviewCheckPoint = bs.scaleUpPreviewCheckPoint()
	}
	bs.settlePauseFields()
	if rs := rsByHash(bs.all, st.BlueGreen.ActiveSelector); rs != nil {
		st.HPAReplicas, st.AvailableReplicas, st.ReadyReplicas = rs.Status.Replicas, rs.Status.AvailableReplicas, rs.Status.ReadyReplicas
		st.Selector = metav1.FormatLabelSelector(rs.Spec.Selector)
	}
}

// settlePauseFields: an abort clears every pause; controllerPause stays set only while a pause
// condition exists (Argo computes both afresh on every reconcile).
func (bs *blueGreenStrategy) settlePauseFields() {
	st := &bs.status
	if st.Abort {
		st.PauseConditions = nil
	}
	if len(st.PauseConditions) == 0 {
		st.PauseConditions, st.ControllerPause = nil, false
	}
}

func (bs *blueGreenStrategy) clearPauseAndAbort() {
	st := &bs.status
	st.PauseConditions, st.ControllerPause, st.Abort, st.AbortedAt = nil, false, false, nil
	bs.abortMsg = ""
}

// promotionReason is Argo's shouldFullPromote for blueGreen ("" = not yet).
func (bs *blueGreenStrategy) promotionReason() string {
	st := &bs.status
	switch {
	case bs.stableRS == nil, st.BlueGreen.ActiveSelector == "":
		return "Initial deploy"
	case st.BlueGreen.ActiveSelector != st.CurrentPodHash:
		return ""
	case bs.ro.Status.PromoteFull:
		return "Full promotion requested"
	case bs.fastRollback() && bs.rollbackWithinWindow():
		return "Rollback within window"
	case bs.fastRollback():
		return "Fast rollback"
	case st.Abort:
		return ""
	case bs.spec().PostPromotionAnalysis != nil && (bs.post == nil || bs.post.Status.Phase != v1alpha1.AnalysisPhaseSuccessful):
		return ""
	}
	return "Completed blue-green update"
}

// promote marks the current pod template stable (Argo's promoteStable).
func (bs *blueGreenStrategy) promote(reason string) {
	st := &bs.status
	bs.clearPauseAndAbort()
	st.PromoteFull, st.BlueGreen.ScaleUpPreviewCheckPoint = false, false
	if st.StableRS == st.CurrentPodHash {
		return
	}
	st.StableRS = st.CurrentPodHash
	bs.event("Normal", reasonCompleted, "Rollout completed update to revision %d (%s): %s", revisionOf(bs.ro), st.CurrentPodHash, reason)
	bs.requeueAfter(10 * time.Millisecond)
}

// fastRollback is Argo's isFastRollback for blueGreen: going back to the stable ReplicaSet (also
// true once fully promoted), or to an older ReplicaSet within the rollbackWindow or still within
// its scale-down delay.
func (bs *blueGreenStrategy) fastRollback() bool {
	if bs.newRS == nil || bs.stableRS == nil {
		return false
	}
	if rsHash(bs.newRS) == bs.ro.Status.StableRS || bs.rollbackWithinWindow() {
		return true
	}
	return bs.newWithinDelay && bs.newRS.CreationTimestamp.Before(&bs.stableRS.CreationTimestamp)
}

func rsByHash(rss []*appsv1.ReplicaSet, hash string) *appsv1.ReplicaSet {
	if hash == "" {
		return nil
	}
	for _, rs := range rss {
		if rsHash(rs) == hash {
			return rs
		}
	}
	return nil
}
