package mllp

import (
	"context"
	"fmt"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

// SetWeight writes the canary weight (and the weight scale and Services) to the route.
func (r *Router) SetWeight(ctx context.Context, ro *v1alpha1.Rollout, w int32, _ []v1alpha1.WeightDestination) error {
	t, d, err := r.setup(ro)
	if err != nil {
		return err
	}
	if w < 0 || w > t.maxWeight {
		return fmt.Errorf("SetWeight: desired weight %d outside 0..%d (trafficRouting.maxTrafficWeight)", w, t.maxWeight)
	}
	wrote, err := mutate(ctx, d, t, func(route *api.MLLPRoute) (bool, error) {
		changed := setServices(route, t)
		if route.Spec.Weight != w {
			route.Spec.Weight, changed = w, true
		}
		if route.Spec.EffectiveMaxWeight() != t.maxWeight {
			route.Spec.MaxWeight, changed = t.maxWeight, true
		}
		return changed, nil
	})
	if err != nil {
		return fmt.Errorf("SetWeight %d: %w", w, err)
	}
	if wrote {
		r.log.Info("weight set", "route", t.key(), "weight", w, "maxWeight", t.maxWeight)
	}
	return nil
}

// setServices writes the Rollout's stable/canary Services into the route when they differ.
func setServices(route *api.MLLPRoute, t target) bool {
	changed := false
	if route.Spec.StableService != t.stableService {
		route.Spec.StableService, changed = t.stableService, true
	}
	if t.canaryService != "" && route.Spec.CanaryService != t.canaryService {
		route.Spec.CanaryService, changed = t.canaryService, true
	}
	if route.Spec.Service == "" {
		route.Spec.Service, changed = route.Name, true
	}
	return changed
}

// UpdateHash records the pod-template hashes in the route.
func (r *Router) UpdateHash(ctx context.Context, ro *v1alpha1.Rollout, canaryHash, stableHash string, _ []v1alpha1.WeightDestination) error {
	t, d, err := r.setup(ro)
	if err != nil {
		return err
	}
	_, err = mutate(ctx, d, t, func(route *api.MLLPRoute) (bool, error) {
		changed := setServices(route, t)
		if route.Spec.CanaryHash != canaryHash || route.Spec.StableHash != stableHash {
			route.Spec.CanaryHash, route.Spec.StableHash, changed = canaryHash, stableHash, true
		}
		return changed, nil
	})
	if err != nil {
		return fmt.Errorf("UpdateHash: %w", err)
	}
	return nil
}

// RemoveManagedRoutes clears the match rules and the mirror; weight routing stays as set.
func (r *Router) RemoveManagedRoutes(ctx context.Context, ro *v1alpha1.Rollout) error {
	t, d, err := r.setup(ro)
	if err != nil {
		return err
	}
	wrote, err := mutate(ctx, d, t, func(route *api.MLLPRoute) (bool, error) {
		changed := len(route.Spec.Matches) > 0 || route.Spec.Mirror != nil
		route.Spec.Matches, route.Spec.Mirror = nil, nil
		return changed, nil
	})
	if err != nil {
		return fmt.Errorf("RemoveManagedRoutes: %w", err)
	}
	if wrote {
		r.log.Info("managed routes removed (match rules and mirror)", "route", t.key())
	}
	return nil
}
