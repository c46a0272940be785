package rollout

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// reconcilePreviewService points the preview Service at the new ReplicaSet at once (Argo does not
// wait for its pods: preview traffic is for testing), unless progress is halted.
func (bs *blueGreenStrategy) reconcilePreviewService(ctx context.Context) error {
	if bs.preview == nil || bs.newRS == nil || bs.haltProgress() {
		return nil
	}
	return bs.switchSelector(ctx, bs.preview, rsHash(bs.newRS))
}

// reconcileActiveService switches the active Service (Argo's reconcileActiveService). It never
// points it at a ReplicaSet that is not fully available: nothing moves until the new ReplicaSet
// is at its desired size, saturated (all the Rollout's replicas available) — then it goes to the
// new ReplicaSet when fast-tracked or promoted (pause and prePromotionAnalysis done), and back to
// the stable one after an abort.
func (bs *blueGreenStrategy) reconcileActiveService(ctx context.Context) error {
	if bs.haltProgress() || !bs.readyForPause() || !saturated(bs.ro, bs.newRS) {
		return nil
	}
	hash := selectorOf(bs.active)
	if bs.fastTracked() || (bs.completedPause() && bs.completedPrePromotion()) {
		hash = rsHash(bs.newRS)
	}
	if bs.ro.Status.Abort {
		hash = bs.ro.Status.StableRS
	}
	return bs.switchSelector(ctx, bs.active, hash)
}

// switchSelector sets rollouts-pod-template-hash in svc's selector (and marks the Service managed
// by this Rollout), emitting Argo's SwitchService event; svc is updated in place.
func (bs *blueGreenStrategy) switchSelector(ctx context.Context, svc *corev1.Service, hash string) error {
	if hash == "" {
		return nil
	}
	owner, managed := svc.Annotations[v1alpha1.ManagedByRolloutsKey]
	if managed && owner != bs.ro.Name {
		bs.event("Warning", "ServiceReferenceError", "Service %q is managed by another Rollout", svc.Name)
		return fmt.Errorf("service %q is managed by another Rollout (%s)", svc.Name, owner)
	}
	cur, ok := svc.Spec.Selector[v1alpha1.DefaultRolloutUniqueLabelKey]
	if ok && cur == hash && managed {
		return nil
	}
	patch, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{v1alpha1.ManagedByRolloutsKey: bs.ro.Name}},
		"spec":     map[string]any{"selector": map[string]string{v1alpha1.DefaultRolloutUniqueLabelKey: hash}},
	})
	if err := bs.c.api.PatchService(ctx, svc.Namespace, svc.Name, patch); err != nil {
		return fmt.Errorf("switch service %q to %s: %w", svc.Name, hash, err)
	}
	bs.event("Normal", "SwitchService", "Switched selector for service '%s' from '%s' to '%s'", svc.Name, cur, hash)
	if svc.Spec.Selector == nil {
		svc.Spec.Selector = map[string]string{}
	}
	if svc.Annotations == nil {
		svc.Annotations = map[string]string{}
	}
	svc.Spec.Selector[v1alpha1.DefaultRolloutUniqueLabelKey] = hash
	svc.Annotations[v1alpha1.ManagedByRolloutsKey] = bs.ro.Name
	return nil
}
