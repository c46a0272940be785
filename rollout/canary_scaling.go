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

// Defaults of the canary strategy (Argo's utils/defaults).
const (
	DefaultScaleDownDelaySeconds      = 30
	DefaultAbortScaleDownDelaySeconds = 30
	DefaultProgressDeadlineSeconds    = 600
)

func (cs *canaryStrategy) trafficRouted() bool {
	c := cs.ro.Spec.Strategy.Canary
	return c != nil && c.TrafficRouting != nil
}

// haltProgress: spec.paused and an inconclusive analysis stop all scaling.
func (cs *canaryStrategy) haltProgress() bool {
	if cs.ro.Spec.Paused {
		return true
	}
	for _, p := range cs.ro.Status.PauseConditions {
		if p.Reason == v1alpha1.PauseReasonInconclusiveAnalysis {
			return true
		}
	}
	return false
}

// reconcileReplicaSets scales stable, canary and older ReplicaSets one move at a time (as Argo:
// stable first, then canary, then the others). It reports whether it scaled anything.
func (cs *canaryStrategy) reconcileReplicaSets(ctx context.Context) (bool, error) {
	if cs.haltProgress() {
		return false, nil
	}
	if err := cs.removeDeadlines(ctx); err != nil {
		return false, err
	}
	if canary.StableDistinct(cs.newRS, cs.stableRS) {
		_, stable := cs.desiredCounts(cs.ro.Status.Canary.Weights)
		if scaled, err := cs.scale(ctx, cs.stableRS, stable, nil); err != nil || scaled {
			return scaled, err
		}
	}
	if scaled, err := cs.reconcileNewRS(ctx); err != nil || scaled {
		return scaled, err
	}
	return cs.scaleDownOthers(ctx)
}

func (cs *canaryStrategy) desiredCounts(weights *v1alpha1.TrafficWeights) (int32, int32) {
	if cs.trafficRouted() {
		return canary.TrafficRoutedCounts(cs.ro, cs.newRS, cs.stableRS, weights)
	}
	return canary.BasicCounts(cs.ro, cs.newRS, cs.stableRS, cs.others)
}

// removeDeadlines drops stale scale-down deadlines from the canary and stable ReplicaSets.
func (cs *canaryStrategy) removeDeadlines(ctx context.Context) error {
	for _, rs := range []*appsv1.ReplicaSet{cs.stableRS, cs.newRS} {
		if rs == nil || (cs.ro.Status.Abort && rs == cs.newRS) {
			continue
		}
		if _, ok := deadline(rs); !ok {
			continue
		}
		_, err := cs.scale(ctx, rs, ptr.Deref(rs.Spec.Replicas, 0), func(cp *appsv1.ReplicaSet) {
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
func (cs *canaryStrategy) reconcileNewRS(ctx context.Context) (bool, error) {
	if cs.newRS == nil {
		return false, nil
	}
	want := canary.Replicas(cs.ro)
	if canary.StableDistinct(cs.newRS, cs.stableRS) {
		want, _ = cs.desiredCounts(cs.status.Canary.Weights)
	}
	cur := ptr.Deref(cs.newRS.Spec.Replicas, 0)
	if cs.ro.Status.Abort && cs.trafficRouted() && want < cur && canary.StableDistinct(cs.newRS, cs.stableRS) {
		delay := int32(DefaultAbortScaleDownDelaySeconds)
		if d := cs.ro.Spec.Strategy.Canary.AbortScaleDownDelaySeconds; d != nil {
			delay = *d
		}
		if delay == 0 {
			return false, nil
		}
		if keep, err := cs.delayScaleDown(ctx, cs.newRS, delay); err != nil || keep {
			return false, err
		}
	}
	return cs.scale(ctx, cs.newRS, want, nil)
}

// delayScaleDown annotates rs with a scale-down deadline and reports whether to keep it up.
func (cs *canaryStrategy) delayScaleDown(ctx context.Context, rs *appsv1.ReplicaSet, delaySeconds int32) (bool, error) {
	now := cs.c.now()
	if t, ok := deadline(rs); ok {
		if now.Before(t) {
			cs.requeueAt(t)
			return true, nil
		}
		return false, nil
	}
	t := now.Add(time.Duration(delaySeconds) * time.Second).UTC()
	_, err := cs.scale(ctx, rs, ptr.Deref(rs.Spec.Replicas, 0), func(cp *appsv1.ReplicaSet) {
		cp.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey] = t.Format(time.RFC3339)
	})
	cs.requeueAt(t)
	return true, err
}

// scaleDownOthers scales down ReplicaSets that are neither canary nor stable, within
// maxUnavailable; with trafficRouting the previous stable waits scaleDownDelaySeconds.
func (cs *canaryStrategy) scaleDownOthers(ctx context.Context) (bool, error) {
	total := canary.Replicas(cs.ro)
	_, unavailable := canary.Fenceposts(cs.ro)
	budget := canary.SumAvailable(cs.all) - (total - unavailable)
	others := append([]*appsv1.ReplicaSet(nil), cs.others...)
	sort.Slice(others, func(i, j int) bool { return revisionOf(others[i]) > revisionOf(others[j]) })
	scaledAny := false
	delayed := int32(0) // ReplicaSets kept up by a scale-down deadline (scaleDownDelayRevisionLimit)
	for _, rs := range others {
		cur := ptr.Deref(rs.Spec.Replicas, 0)
		if cur == 0 {
			continue
		}
		want, skip, err := cs.otherTarget(ctx, rs, cur, budget, &delayed)
		if err != nil {
			return scaledAny, err
		}
		if skip || want == cur {
			continue
		}
		if !cs.trafficRouted() && budget <= 0 {
			break
		}
		scaled, err := cs.scale(ctx, rs, want, nil)
		if err != nil {
			return scaledAny, err
		}
		budget -= cur - want
		scaledAny = scaledAny || scaled
	}
	return scaledAny, nil
}

func (cs *canaryStrategy) otherTarget(ctx context.Context, rs *appsv1.ReplicaSet, cur, budget int32, delayed *int32) (int32, bool, error) {
	if !cs.trafficRouted() {
		if budget <= 0 {
			return cur, true, nil
		}
		return max(0, cur-budget), false, nil
	}
	if cs.referenced(rs) {
		return cur, true, nil
	}
	_, hasDeadline := deadline(rs)
	if cs.fullyPromoted() || hasDeadline {
		if cs.ro.Spec.Strategy.Canary.DynamicStableScale {
			return 0, false, nil
		}
		return cs.delayedTarget(ctx, rs, cur, hasDeadline, delayed)
	}
	return 0, false, nil
}

// delayedTarget is Argo's scaleDownDelayHelper for an old ReplicaSet after a promotion: the
// newest scaleDownDelayRevisionLimit of them (default: all) keep their pods until their
// scale-down deadline (scaleDownDelaySeconds, default 30); the rest scale down at once.
func (cs *canaryStrategy) delayedTarget(ctx context.Context, rs *appsv1.ReplicaSet, cur int32, hasDeadline bool, delayed *int32) (int32, bool, error) {
	c := cs.ro.Spec.Strategy.Canary
	limit := int32(math.MaxInt32)
	if c.ScaleDownDelayRevisionLimit != nil {
		limit = *c.ScaleDownDelayRevisionLimit
	}
	*delayed++
	if *delayed > limit {
		return 0, false, nil
	}
	if !hasDeadline {
		delay := int32(DefaultScaleDownDelaySeconds)
		if c.ScaleDownDelaySeconds != nil {
			delay = *c.ScaleDownDelaySeconds
		}
		_, err := cs.delayScaleDown(ctx, rs, delay)
		return cur, true, err
	}
	keep, err := cs.delayScaleDown(ctx, rs, 0)
	if err != nil || keep {
		return cur, true, err
	}
	return 0, false, nil
}
