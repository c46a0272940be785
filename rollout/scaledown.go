package rollout

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Argo's scale-down deadline on a ReplicaSet: the annotation scale-down-deadline holds an RFC 3339
// UTC time after which the controller scales the ReplicaSet to 0. These helpers are shared by the
// strategies (blueGreen's scaleDownDelaySeconds/abortScaleDownDelaySeconds, canary's).

// addScaleDownDelay sets rs's scale-down deadline to now+d, without changing its replicas; a zero
// d removes an existing deadline instead (Argo's addScaleDownDelay).
func (rc *rolloutCtx) addScaleDownDelay(ctx context.Context, rs *appsv1.ReplicaSet, d time.Duration) error {
	if rs == nil {
		return nil
	}
	if d == 0 {
		return rc.removeScaleDownDelay(ctx, rs)
	}
	t := rc.c.now().Add(d).UTC().Format(time.RFC3339)
	_, err := rc.scaleRS(ctx, rs, ptr.Deref(rs.Spec.Replicas, 0), func(cp *appsv1.ReplicaSet) {
		cp.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey] = t
	})
	return err
}

// removeScaleDownDelay drops rs's scale-down deadline, if any.
func (rc *rolloutCtx) removeScaleDownDelay(ctx context.Context, rs *appsv1.ReplicaSet) error {
	if rs == nil {
		return nil
	}
	if _, ok := rs.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey]; !ok {
		return nil
	}
	_, err := rc.scaleRS(ctx, rs, ptr.Deref(rs.Spec.Replicas, 0), func(cp *appsv1.ReplicaSet) {
		delete(cp.Annotations, v1alpha1.ScaleDownDeadlineAnnotationKey)
	})
	return err
}

// scaleDownRemaining is the time left before rs's scale-down deadline: ok is false when rs has no
// (parsable) deadline, and the duration is <= 0 once the deadline has passed.
func (rc *rolloutCtx) scaleDownRemaining(rs *appsv1.ReplicaSet) (time.Duration, bool) {
	t, ok := deadline(rs)
	if !ok {
		return 0, false
	}
	return t.Sub(rc.c.now()), true
}

// hasScaleDownDeadline reports whether rs carries the annotation at all (parsable or not).
func hasScaleDownDeadline(rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	_, ok := rs.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey]
	return ok
}
