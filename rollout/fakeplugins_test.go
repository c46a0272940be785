package rollout

import (
	"context"
	"fmt"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

// fakePlugins is a PluginSource with in-memory traffic routers; metric providers are only
// registered names (the controller's sync never measures: the analysis engine does).
type fakePlugins struct {
	routers map[string]*fakeRouter
	metrics map[string]bool
}

// router registers (or returns) the traffic router called name.
func (p *fakePlugins) router(name string) *fakeRouter {
	if r, ok := p.routers[name]; ok {
		return r
	}
	r := &fakeRouter{verified: plugins.Verified}
	p.routers[name] = r
	return r
}

func (p *fakePlugins) Has(kind plugins.Kind, name string) bool {
	if kind == plugins.KindMetricProvider {
		return p.metrics[name]
	}
	_, ok := p.routers[name]
	return kind == plugins.KindTrafficRouter && ok
}

func (p *fakePlugins) TrafficRouter(_ context.Context, name string) (plugins.TrafficRouter, error) {
	if r, ok := p.routers[name]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("traffic router %q not registered", name)
}

func (p *fakePlugins) MetricProvider(_ context.Context, name string) (plugins.MetricProvider, error) {
	return nil, fmt.Errorf("metric provider %q not registered", name)
}

// fakeRouter records the traffic state a router would hold: the last weight and hashes set,
// the routes set and removed; VerifyWeight answers verified.
type fakeRouter struct {
	weight                 int32
	canaryHash, stableHash string
	headerRoutes           []string
	removedRoutes          int
	verified               plugins.RpcVerified
}

func (r *fakeRouter) InitPlugin(context.Context) error     { return nil }
func (r *fakeRouter) Type(context.Context) (string, error) { return "fake", nil }

func (r *fakeRouter) UpdateHash(_ context.Context, _ *v1alpha1.Rollout, canaryHash, stableHash string, _ []v1alpha1.WeightDestination) error {
	r.canaryHash, r.stableHash = canaryHash, stableHash
	return nil
}

func (r *fakeRouter) SetWeight(_ context.Context, _ *v1alpha1.Rollout, w int32, _ []v1alpha1.WeightDestination) error {
	r.weight = w
	return nil
}

func (r *fakeRouter) SetHeaderRoute(_ context.Context, _ *v1alpha1.Rollout, route *v1alpha1.SetHeaderRoute) error {
	r.headerRoutes = append(r.headerRoutes, route.Name)
	return nil
}

func (r *fakeRouter) SetMirrorRoute(context.Context, *v1alpha1.Rollout, *v1alpha1.SetMirrorRoute) error {
	return nil
}

func (r *fakeRouter) VerifyWeight(context.Context, *v1alpha1.Rollout, int32, []v1alpha1.WeightDestination) (plugins.RpcVerified, error) {
	return r.verified, nil
}

func (r *fakeRouter) RemoveManagedRoutes(context.Context, *v1alpha1.Rollout) error {
	r.removedRoutes++
	return nil
}
