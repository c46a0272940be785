package rollout

import (
	"context"
	"math"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// reconcileReplicaSets is Argo's reconcileBlueGreenReplicaSets: stale deadlines off the new and
// stable ReplicaSets, the stable at full size, the new one at its desired size (or kept for
// abortScaleDownDelaySeconds after an abort), then the older ones scaled down after
// scaleDownDelaySeconds.
func (bs *blueGreenStrategy) reconcileReplicaSets(ctx context.Context) error {
	if err := bs.removeDeadlines(ctx); err != nil {
		return err
	}
	if bs.stableRS != nil {
		if _, err := bs.scale(ctx, bs.stableRS, canary.Replicas(bs.ro)); err != nil {
			return err
		}
	}
	if err := bs.reconcileNewRS(ctx); err != nil {
		return err
	}
	return bs.scaleDownOthers(ctx)
}

// scale is scaleRS with Argo's rule for the deadline: a full scale-down drops it, except while
// an abort delays the scale-down (the aborted ReplicaSet keeps it, "delay:passed").
func (bs *blueGreenStrategy) scale(ctx context.Context, rs *appsv1.ReplicaSet, n int32) (bool, error) {
	return bs.scaleRS(ctx, rs, n, func(cp *appsv1.ReplicaSet) {
		if n == 0 && !bs.delaysScaleDownOnAbort() {
			delete(cp.Annotations, v1alpha1.ScaleDownDeadlineAnnotationKey)
		}
	})
}

func (bs *blueGreenStrategy) removeDeadlines(ctx context.Context) error {
	if bs.newRS != nil && !bs.delaysScaleDownOnAbort() {
		if err := bs.removeScaleDownDelay(ctx, bs.newRS); err != nil {
			return err
		}
	}
	if bs.stableRS != nil && (bs.newRS == nil || bs.stableRS.Name != bs.newRS.Name) {
		return bs.removeScaleDownDelay(ctx, bs.stableRS)
	}
	return nil
}

// abortScaleDownDelay is abortScaleDownDelaySeconds (default 30); ok is false for 0, which keeps
// the new ReplicaSet up after an abort.
func (bs *blueGreenStrategy) abortScaleDownDelay() (time.Duration, bool) {
	d := ptr.Deref(bs.spec().AbortScaleDownDelaySeconds, DefaultAbortScaleDownDelaySeconds)
	return secondsDur(d), d != 0
}

// delaysScaleDownOnAbort is Argo's shouldDelayScaleDownOnAbort for blueGreen.
func (bs *blueGreenStrategy) delaysScaleDownOnAbort() bool {
	_, ok := bs.abortScaleDownDelay()
	return bs.status.Abort && bs.stableRS != nil && ok
}

// reconcileNewRS scales the new ReplicaSet to its desired size; after an abort it stays up
// until its abort deadline (set once the stable ReplicaSet is fully available) has passed.
func (bs *blueGreenStrategy) reconcileNewRS(ctx context.Context) error {
	if bs.newRS == nil {
		return nil
	}
	want := bs.desiredNewReplicas()
	if bs.delaysScaleDownOnAbort() {
		left, ok := bs.scaleDownRemaining(bs.newRS)
		switch {
		case !hasScaleDownDeadline(bs.newRS):
			if bs.stableRS.Status.AvailableReplicas >= canary.Replicas(bs.ro) {
				d, _ := bs.abortScaleDownDelay()
				bs.requeueAfter(d)
				return bs.addScaleDownDelay(ctx, bs.newRS, d)
			}
			return nil
		case ok && left > 0:
			bs.requeueAfter(left)
			return nil
		case ok:
			want = 0
		}
	}
	_, err := bs.scale(ctx, bs.newRS, want)
	return err
}

// scaleDownOthers is Argo's scaleDownOldReplicaSetsForBlueGreen: newest first, each old
// ReplicaSet not referenced by the status or a Service gets a scale-down deadline
// (scaleDownDelaySeconds, default 30) and is scaled to 0 once it has passed; beyond
// scaleDownDelayRevisionLimit deadlines they go at once. Nothing is scaled down while an analysis
// is inconclusive, nor before postPromotionAnalysis succeeded when scaleDownDelaySeconds is unset.
func (bs *blueGreenStrategy) scaleDownOthers(ctx context.Context) error {
	if hasPause(bs.ro.Status.PauseConditions, v1alpha1.PauseReasonInconclusiveAnalysis) {
		return nil
	}
	if bs.spec().PostPromotionAnalysis != nil && bs.spec().ScaleDownDelaySeconds == nil && !bs.skipPostPromotion() &&
		(bs.post == nil || bs.post.Status.Phase != v1alpha1.AnalysisPhaseSuccessful) {
		return nil
	}
	others := append([]*appsv1.ReplicaSet(nil), bs.others...)
	sort.SliceStable(others, func(i, j int) bool { return revisionOf(others[i]) > revisionOf(others[j]) })
	annotated := int32(0)
	for _, rs := range others {
		if ptr.Deref(rs.Spec.Replicas, 0) == 0 || bs.referencedBG(rs) {
			continue
		}
		want, err := bs.scaleDownTarget(ctx, rs, &annotated)
		if err != nil {
			return err
		}
		if want == ptr.Deref(rs.Spec.Replicas, 0) {
			continue
		}
		if _, err := bs.scale(ctx, rs, want); err != nil {
			return err
		}
	}
	return nil
}

// scaleDownTarget is Argo's scaleDownDelayHelper: the size rs should have now.
func (bs *blueGreenStrategy) scaleDownTarget(ctx context.Context, rs *appsv1.ReplicaSet, annotated *int32) (int32, error) {
	limit := bs.scaleDownRevisionLimit()
	if !hasScaleDownDeadline(rs) {
		if *annotated >= limit {
			return 0, nil
		}
		*annotated++
		d := secondsDur(ptr.Deref(bs.spec().ScaleDownDelaySeconds, DefaultScaleDownDelaySeconds))
		if d > 0 {
			bs.requeueAfter(d)
		}
		return ptr.Deref(rs.Spec.Replicas, 0), bs.addScaleDownDelay(ctx, rs, d)
	}
	*annotated++
	if *annotated > limit {
		return 0, nil
	}
	if left, ok := bs.scaleDownRemaining(rs); ok && left > 0 {
		bs.requeueAfter(left)
		return canary.Replicas(bs.ro), nil
	}
	return 0, nil
}

// scaleDownRevisionLimit is scaleDownDelayRevisionLimit (default: no limit).
func (bs *blueGreenStrategy) scaleDownRevisionLimit() int32 {
	return ptr.Deref(bs.spec().ScaleDownDelayRevisionLimit, math.MaxInt32)
}

// referencedBG is Argo's isReplicaSetReferenced for blueGreen: named by the status or selected
// by the active or preview Service.
func (bs *blueGreenStrategy) referencedBG(rs *appsv1.ReplicaSet) bool {
	h := rsHash(rs)
	if h == "" {
		return false
	}
	st := bs.ro.Status
	for _, ref := range []string{st.StableRS, st.CurrentPodHash, st.BlueGreen.ActiveSelector, st.BlueGreen.PreviewSelector, selectorOf(bs.active), selectorOf(bs.preview)} {
		if ref == h {
			return true
		}
	}
	return false
}
