// Package mllpshim is the demo's stand-in for nerve's MLLP traffic-router
// plugin (plugins/cmd/nerve-mllp), used by the demo only while that plugin
// is not built: a minimal TrafficRouter that writes the MLLPRoute's weight
// and hashes and verifies a weight when every live proxy replica reports it
// (router/mllp/api.Applied). Header and mirror routes are not supported.
// The real plugin replaces it as soon as bin/plugins/nerve-mllp exists.
package mllpshim

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

// Config is the plugin's block in trafficRouting.plugins[name].
type Config struct {
	// Route is the MLLPRoute's name; Namespace defaults to the Rollout's.
	Route     string `json:"route"`
	Namespace string `json:"namespace,omitempty"`
}

// Router implements plugins.TrafficRouter on an MLLPRoute.
type Router struct {
	name   string
	client func() (dynamic.Interface, error)
	now    func() time.Time
}

// New returns the router for plugin name (the trafficRouting.plugins key);
// client connects lazily (InitPlugin may fail before the cluster answers).
func New(name string, client func() (dynamic.Interface, error)) *Router {
	return &Router{name: name, client: client, now: time.Now}
}

var _ plugins.TrafficRouter = (*Router)(nil)

// InitPlugin checks that a client can be built.
func (r *Router) InitPlugin(context.Context) error {
	_, err := r.client()
	return err
}

// Type names the router.
func (r *Router) Type(context.Context) (string, error) { return "demo-mllp-shim", nil }

func (r *Router) config(ro *v1alpha1.Rollout) (Config, error) {
	var c Config
	if ro.Spec.Strategy.Canary == nil || ro.Spec.Strategy.Canary.TrafficRouting == nil {
		return c, fmt.Errorf("rollout %s has no trafficRouting", ro.Name)
	}
	raw, ok := ro.Spec.Strategy.Canary.TrafficRouting.Plugins[r.name]
	if !ok {
		return c, fmt.Errorf("rollout %s has no trafficRouting.plugins[%q]", ro.Name, r.name)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("trafficRouting.plugins[%q]: %w", r.name, err)
	}
	if c.Route == "" {
		return c, fmt.Errorf("trafficRouting.plugins[%q]: route is required", r.name)
	}
	if c.Namespace == "" {
		c.Namespace = ro.Namespace
	}
	return c, nil
}

// patch merge-patches the route's spec.
func (r *Router) patch(ctx context.Context, ro *v1alpha1.Rollout, spec map[string]any) error {
	c, err := r.config(ro)
	if err != nil {
		return err
	}
	dyn, err := r.client()
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"spec": spec})
	if err != nil {
		return err
	}
	_, err = dyn.Resource(api.GroupVersionResource()).Namespace(c.Namespace).Patch(ctx, c.Route, types.MergePatchType, body, metav1PatchOptions())
	return err
}

// UpdateHash records the hashes.
func (r *Router) UpdateHash(ctx context.Context, ro *v1alpha1.Rollout, canaryHash, stableHash string, _ []v1alpha1.WeightDestination) error {
	return r.patch(ctx, ro, map[string]any{"canaryHash": canaryHash, "stableHash": stableHash})
}

// SetWeight writes the desired weight.
func (r *Router) SetWeight(ctx context.Context, ro *v1alpha1.Rollout, w int32, _ []v1alpha1.WeightDestination) error {
	return r.patch(ctx, ro, map[string]any{"weight": w})
}

// SetHeaderRoute is not supported by the shim.
func (r *Router) SetHeaderRoute(_ context.Context, _ *v1alpha1.Rollout, hr *v1alpha1.SetHeaderRoute) error {
	if hr == nil || len(hr.Match) == 0 {
		return nil
	}
	return fmt.Errorf("the demo's MLLP router shim does not support setHeaderRoute (build plugins/cmd/nerve-mllp)")
}

// SetMirrorRoute is not supported by the shim.
func (r *Router) SetMirrorRoute(_ context.Context, _ *v1alpha1.Rollout, mr *v1alpha1.SetMirrorRoute) error {
	if mr == nil || len(mr.Match) == 0 {
		return nil
	}
	return fmt.Errorf("the demo's MLLP router shim does not support setMirrorRoute (build plugins/cmd/nerve-mllp)")
}

// VerifyWeight is Verified when every live proxy replica applies w for the
// route's current generation.
func (r *Router) VerifyWeight(ctx context.Context, ro *v1alpha1.Rollout, w int32, _ []v1alpha1.WeightDestination) (plugins.RpcVerified, error) {
	c, err := r.config(ro)
	if err != nil {
		return plugins.NotVerified, err
	}
	dyn, err := r.client()
	if err != nil {
		return plugins.NotVerified, err
	}
	u, err := dyn.Resource(api.GroupVersionResource()).Namespace(c.Namespace).Get(ctx, c.Route, metav1GetOptions())
	if err != nil {
		return plugins.NotVerified, err
	}
	route, err := api.FromUnstructured(u)
	if err != nil {
		return plugins.NotVerified, err
	}
	if route.Spec.Weight == w && api.Applied(route, w, r.now()) {
		return plugins.Verified, nil
	}
	return plugins.NotVerified, nil
}

// RemoveManagedRoutes clears match rules and the mirror.
func (r *Router) RemoveManagedRoutes(ctx context.Context, ro *v1alpha1.Rollout) error {
	return r.patch(ctx, ro, map[string]any{"matches": nil, "mirror": nil})
}
