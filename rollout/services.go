package rollout

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

func (rc *rolloutCtx) pointService(ctx context.Context, name string, rs *appsv1.ReplicaSet) error {
	if name == "" || rs == nil {
		return nil
	}
	svc, err := rc.c.svcLister.Services(rc.ro.Namespace).Get(name)
	if err != nil {
		return fmt.Errorf("service %q: %w", name, err)
	}
	if owner, ok := svc.Annotations[v1alpha1.ManagedByRolloutsKey]; ok && owner != rc.ro.Name {
		rc.event("Warning", "ServiceReferenceError", "Service %q is managed by another Rollout", name)
		return fmt.Errorf("service %q is managed by another Rollout (%s)", name, owner)
	}
	hash := rsHash(rs)
	cur := svc.Spec.Selector[v1alpha1.DefaultRolloutUniqueLabelKey]
	if cur == hash && svc.Annotations[v1alpha1.ManagedByRolloutsKey] == rc.ro.Name {
		return nil
	}
	if cur != "" && rs.Status.AvailableReplicas == 0 {
		return nil
	}
	patch, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{v1alpha1.ManagedByRolloutsKey: rc.ro.Name}},
		"spec":     map[string]any{"selector": map[string]string{v1alpha1.DefaultRolloutUniqueLabelKey: hash}},
	})
	err = rc.c.api.PatchService(ctx, svc.Namespace, name, patch)
	if err != nil {
		return fmt.Errorf("switch service %q to %s: %w", name, hash, err)
	}
	rc.event("Normal", "SwitchService", "Switched selector for service '%s' from '%s' to '%s'", name, cur, hash)
	return nil
}
