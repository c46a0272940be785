package rollout

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/klog/v2"

	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// reconcileRestart implements spec.restartAt: pods created before it are evicted one at a time,
// only while every desired replica is available; status.restartedAt is set when none is left.
func (rc *rolloutCtx) reconcileRestart(ctx context.Context) error {
	at := rc.ro.Spec.RestartAt
	if at == nil || (rc.status.RestartedAt != nil && rc.status.RestartedAt.Equal(at)) {
		return nil
	}
	if at.After(rc.c.now()) {
		rc.requeueAt(at.Time)
		return nil
	}
	sel, err := metav1.LabelSelectorAsSelector(rc.ro.Spec.Selector)
	if err != nil {
		return err
	}
	// A live list, not a Pod informer: pods are listed only while a restart is pending, and
	// the controller does not cache every pod of the namespace for it.
	pods, err := rc.c.api.ListPods(ctx, rc.ro.Namespace, sel.String())
	if err != nil {
		return err
	}
	var old []string
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp == nil && p.CreationTimestamp.Before(at) && rc.ownsPod(p.Labels) {
			old = append(old, p.Name)
		}
	}
	if len(old) == 0 {
		t := *at
		rc.status.RestartedAt = &t
		rc.event("Normal", "RolloutRestarted", "Rollout restarted")
		return nil
	}
	rc.requeueAfter(time.Second)
	if canary.SumAvailable(rc.all) < canary.Replicas(rc.ro) {
		return nil
	}
	// Evicted, not deleted, as Argo's restart does: a PodDisruptionBudget that forbids it (429)
	// means not now, and the requeue above tries again.
	err = rc.c.api.EvictPod(ctx, rc.ro.Namespace, old[0])
	switch {
	case apierrors.IsTooManyRequests(err):
		klog.FromContext(ctx).Info("restart: a PodDisruptionBudget forbids evicting the pod now", "pod", old[0], "err", err.Error())
		return nil
	case err != nil && !apierrors.IsNotFound(err):
		return err
	}
	rc.event("Normal", "RestartingPod", "Restarting pod %s", old[0])
	return nil
}

func (rc *rolloutCtx) ownsPod(l labels.Set) bool {
	h := l["rollouts-pod-template-hash"]
	for _, rs := range rc.all {
		if rsHash(rs) == h {
			return true
		}
	}
	return false
}
