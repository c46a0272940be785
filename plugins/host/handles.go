package host

import (
	"context"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

// routerHandle is the TrafficRouter the host hands out: every call goes through ensure, so a
// dead process is respawned (and re-initialised) first, and every error names the plugin.
type routerHandle struct {
	h    *Host
	name string
}

// client returns the live RPC client of the router.
func (r *routerHandle) client(ctx context.Context) (*proc, plugins.TrafficRouter, error) {
	p, raw, err := r.h.ensure(ctx, plugins.KindTrafficRouter, r.name)
	if err != nil {
		return nil, nil, err
	}
	return p, raw.(plugins.TrafficRouter), nil
}

// InitPlugin implements plugins.TrafficRouter: the host already ran it; this only makes sure
// the process is up and initialised.
func (r *routerHandle) InitPlugin(ctx context.Context) error {
	_, _, err := r.client(ctx)
	return err
}

// Type implements plugins.TrafficRouter.
func (r *routerHandle) Type(ctx context.Context) (string, error) {
	p, c, err := r.client(ctx)
	if err != nil {
		return "", err
	}
	t, err := c.Type(ctx)
	return t, p.callError(err)
}

// UpdateHash implements plugins.TrafficRouter.
func (r *routerHandle) UpdateHash(ctx context.Context, ro *v1alpha1.Rollout, canaryHash, stableHash string, additional []v1alpha1.WeightDestination) error {
	p, c, err := r.client(ctx)
	if err != nil {
		return err
	}
	return p.callError(c.UpdateHash(ctx, ro, canaryHash, stableHash, additional))
}

// SetWeight implements plugins.TrafficRouter.
func (r *routerHandle) SetWeight(ctx context.Context, ro *v1alpha1.Rollout, desiredWeight int32, additional []v1alpha1.WeightDestination) error {
	p, c, err := r.client(ctx)
	if err != nil {
		return err
	}
	return p.callError(c.SetWeight(ctx, ro, desiredWeight, additional))
}

// SetHeaderRoute implements plugins.TrafficRouter.
func (r *routerHandle) SetHeaderRoute(ctx context.Context, ro *v1alpha1.Rollout, route *v1alpha1.SetHeaderRoute) error {
	p, c, err := r.client(ctx)
	if err != nil {
		return err
	}
	return p.callError(c.SetHeaderRoute(ctx, ro, route))
}

// SetMirrorRoute implements plugins.TrafficRouter.
func (r *routerHandle) SetMirrorRoute(ctx context.Context, ro *v1alpha1.Rollout, route *v1alpha1.SetMirrorRoute) error {
	p, c, err := r.client(ctx)
	if err != nil {
		return err
	}
	return p.callError(c.SetMirrorRoute(ctx, ro, route))
}

// VerifyWeight implements plugins.TrafficRouter.
func (r *routerHandle) VerifyWeight(ctx context.Context, ro *v1alpha1.Rollout, desiredWeight int32, additional []v1alpha1.WeightDestination) (plugins.RpcVerified, error) {
	p, c, err := r.client(ctx)
	if err != nil {
		return plugins.NotVerified, err
	}
	v, err := c.VerifyWeight(ctx, ro, desiredWeight, additional)
	return v, p.callError(err)
}

// RemoveManagedRoutes implements plugins.TrafficRouter.
func (r *routerHandle) RemoveManagedRoutes(ctx context.Context, ro *v1alpha1.Rollout) error {
	p, c, err := r.client(ctx)
	if err != nil {
		return err
	}
	return p.callError(c.RemoveManagedRoutes(ctx, ro))
}

// providerHandle is the MetricProvider the host hands out (see routerHandle).
type providerHandle struct {
	h    *Host
	name string
}

// client returns the live RPC client of the provider.
func (m *providerHandle) client(ctx context.Context) (*proc, plugins.MetricProvider, error) {
	p, raw, err := m.h.ensure(ctx, plugins.KindMetricProvider, m.name)
	if err != nil {
		return nil, nil, err
	}
	return p, raw.(plugins.MetricProvider), nil
}

// InitPlugin implements plugins.MetricProvider (see routerHandle.InitPlugin).
func (m *providerHandle) InitPlugin(ctx context.Context) error {
	_, _, err := m.client(ctx)
	return err
}

// Type implements plugins.MetricProvider.
func (m *providerHandle) Type(ctx context.Context) (string, error) {
	p, c, err := m.client(ctx)
	if err != nil {
		return "", err
	}
	t, err := c.Type(ctx)
	return t, p.callError(err)
}

// Run implements plugins.MetricProvider.
func (m *providerHandle) Run(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric) (v1alpha1.Measurement, error) {
	p, c, err := m.client(ctx)
	if err != nil {
		return v1alpha1.Measurement{}, err
	}
	ms, err := c.Run(ctx, run, metric)
	return ms, p.callError(err)
}

// Resume implements plugins.MetricProvider.
func (m *providerHandle) Resume(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric, in v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	p, c, err := m.client(ctx)
	if err != nil {
		return v1alpha1.Measurement{}, err
	}
	ms, err := c.Resume(ctx, run, metric, in)
	return ms, p.callError(err)
}

// Terminate implements plugins.MetricProvider.
func (m *providerHandle) Terminate(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric, in v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	p, c, err := m.client(ctx)
	if err != nil {
		return v1alpha1.Measurement{}, err
	}
	ms, err := c.Terminate(ctx, run, metric, in)
	return ms, p.callError(err)
}

// GarbageCollect implements plugins.MetricProvider.
func (m *providerHandle) GarbageCollect(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric, limit int) error {
	p, c, err := m.client(ctx)
	if err != nil {
		return err
	}
	return p.callError(c.GarbageCollect(ctx, run, metric, limit))
}

// GetMetadata implements plugins.MetricProvider.
func (m *providerHandle) GetMetadata(ctx context.Context, metric v1alpha1.Metric) (map[string]string, error) {
	p, c, err := m.client(ctx)
	if err != nil {
		return nil, err
	}
	md, err := c.GetMetadata(ctx, metric)
	return md, p.callError(err)
}
