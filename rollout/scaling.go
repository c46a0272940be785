package rollout

import (
	"context"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// Defaults of the canary strategy (Argo's utils/defaults).
const (
	DefaultScaleDownDelaySeconds      = 30
	DefaultAbortScaleDownDelaySeconds = 30
	DefaultProgressDeadlineSeconds    = 600
)

func (rc *rolloutCtx) trafficRouted() bool {
	c := rc.ro.Spec.Strategy.Canary
	return c != nil && c.TrafficRouting != nil
}

// haltProgress: spec.paused and an inconclusive analysis stop all scaling.
func (rc *rolloutCtx) haltProgress() bool {
	if rc.ro.Spec.Paused {
		return true
	}
	for _, p := range rc.ro.Status.PauseConditions {
		if p.Reason == v1alpha1.PauseReasonInconclusiveAnalysis {
			return true
		}
	}
	return false
}

// reconcileReplicaSets scales stable, canary and older ReplicaSets one move at a time (as Argo:
// stable first, then canary, then the others). It reports whether it scaled anything.
func (rc *rolloutCtx) reconcileReplicaSets(ctx context.Context) (bool, error) {
	if rc.haltProgress() {
		return false, nil
	}
	if err := rc.removeDeadlines(ctx); err != nil {
		return false, err
	}
	if canary.StableDistinct(rc.newRS, rc.stableRS) {
		_, stable := rc.desiredCounts(rc.ro.Status.Canary.Weights)
		if scaled, err := rc.scale(ctx, rc.stableRS, stable, nil); err != nil || scaled {
			return scaled, err
		}
	}
	if scaled, err := rc.reconcileNewRS(ctx); err != nil || scaled {
		return scaled, err
	}
	return rc.scaleDownOthers(ctx)
}

func (rc *rolloutCtx) desiredCounts(weights *v1alpha1.TrafficWeights) (int32, int32) {
	if rc.trafficRouted() {
		return canary.TrafficRoutedCounts(rc.ro, rc.newRS, rc.stableRS, weights)
	}
	return canary.BasicCounts(rc.ro, rc.newRS, rc.stableRS, rc.others)
}

// removeDeadlines drops stale scale-down deadlines from the canary and stable ReplicaSets.
func (rc *rolloutCtx) removeDeadlines(ctx context.Context) error {
	for _, rs := range []*appsv1.ReplicaSet{rc.stableRS, rc.newRS} {
		if rs == nil || (rc.ro.Status.Abort && rs == rc.newRS) {
			continue
		}
		if _, ok := deadline(rs); !ok {
			continue
		}
		_, err := rc.scale(ctx, rs, ptr.Deref(rs.Spec.Replicas, 0), func(cp *appsv1.ReplicaSet) {
			delete(cp.Annotations, v1alpha1.ScaleDownDeadlineAnnotationKey)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// reconcileNewRS scales the canary; after an abort with trafficRouting the canary stays up
// until abortScaleDownDelaySeconds (default 30, 0 = keep) have passed.
func (rc *rolloutCtx) reconcileNewRS(ctx context.Context) (bool, error) {
	if rc.newRS == nil {
		return false, nil
	}
	want := canary.Replicas(rc.ro)
	if canary.StableDistinct(rc.newRS, rc.stableRS) {
		want, _ = rc.desiredCounts(rc.status.Canary.Weights)
	}
	cur := ptr.Deref(rc.newRS.Spec.Replicas, 0)
	if rc.ro.Status.Abort && rc.trafficRouted() && want < cur && canary.StableDistinct(rc.newRS, rc.stableRS) {
		delay := int32(DefaultAbortScaleDownDelaySeconds)
		if d := rc.ro.Spec.Strategy.Canary.AbortScaleDownDelaySeconds; d != nil {
			delay = *d
		}
		if delay == 0 {
			return false, nil
		}
		if keep, err := rc.delayScaleDown(ctx, rc.newRS, delay); err != nil || keep {
			return false, err
		}
	}
	return rc.scale(ctx, rc.newRS, want, nil)
}

// delayScaleDown annotates rs with a scale-down deadline and reports whether to keep it up.
func (rc *rolloutCtx) delayScaleDown(ctx context.Context, rs *appsv1.ReplicaSet, delaySeconds int32) (bool, error) {
	now := rc.c.now()
	if t, ok := deadline(rs); ok {
		if now.Before(t) {
			rc.requeueAt(t)
			return true, nil
		}
		return false, nil
	}
	t := now.Add(time.Duration(delaySeconds) * time.Second).UTC()
	_, err := rc.scale(ctx, rs, ptr.Deref(rs.Spec.Replicas, 0), func(cp *appsv1.ReplicaSet) {
		cp.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey] = t.Format(time.RFC3339)
	})
	rc.requeueAt(t)
	return true, err
}

// scaleDownOthers scales down ReplicaSets that are neither canary nor stable, within
// maxUnavailable; with trafficRouting the previous stable waits scaleDownDelaySeconds.
func (rc *rolloutCtx) scaleDownOthers(ctx context.Context) (bool, error) {
	total := canary.Replicas(rc.ro)
	_, unavailable := canary.Fenceposts(rc.ro)
	budget := canary.SumAvailable(rc.all) - (total - unavailable)
	others := append([]*appsv1.ReplicaSet(nil), rc.others...)
	sort.Slice(others, func(i, j int) bool { return revisionOf(others[i]) > revisionOf(others[j]) })
	scaledAny := false
	for _, rs := range others {
		cur := ptr.Deref(rs.Spec.Replicas, 0)
		if cur == 0 {
			continue
		}
		want, skip, err := rc.otherTarget(ctx, rs, cur, budget)
		if err != nil {
			return scaledAny, err
		}
		if skip || want == cur {
			continue
		}
		if !rc.trafficRouted() && budget <= 0 {
			break
		}
		scaled, err := rc.scale(ctx, rs, want, nil)
		if err != nil {
			return scaledAny, err
		}
		budget -= cur - want
		scaledAny = scaledAny || scaled
	}
	return scaledAny, nil
}

func (rc *rolloutCtx) otherTarget(ctx context.Context, rs *appsv1.ReplicaSet, cur, budget int32) (int32, bool, error) {
	if !rc.trafficRouted() {
		if budget <= 0 {
			return cur, true, nil
		}
		return max(0, cur-budget), false, nil
	}
	if rc.referenced(rs) {
		return cur, true, nil
	}
	_, hasDeadline := deadline(rs)
	if rc.fullyPromoted() || hasDeadline {
		if rc.ro.Spec.Strategy.Canary.DynamicStableScale {
			return 0, false, nil
		}
		delay := int32(DefaultScaleDownDelaySeconds)
		if d := rc.ro.Spec.Strategy.Canary.ScaleDownDelaySeconds; d != nil {
			delay = *d
		}
		keep, err := rc.delayScaleDown(ctx, rs, delay)
		if err != nil || keep {
			return cur, true, err
		}
	}
	return 0, false, nil
}

func (rc *rolloutCtx) fullyPromoted() bool {
	return rc.ro.Status.StableRS != "" && rc.ro.Status.StableRS == rc.ro.Status.CurrentPodHash
}
