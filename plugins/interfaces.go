package plugins

import (
	"context"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// TrafficRouter is a traffic-router plugin as Go sees it. Plugin implementations satisfy it, and
// so does the host-side RPC client, so the rollout loop cannot tell the two apart.
//
// Every method may be called concurrently and repeatedly (the controller repeats UpdateHash,
// SetWeight and VerifyWeight on every reconcile): implementations must be idempotent and
// thread-safe, and must not fail with a crash when InitPlugin failed or was never called.
type TrafficRouter interface {
	// InitPlugin is called once after the process starts (and again after a respawn).
	InitPlugin(ctx context.Context) error
	// Type names the router (used only in logs).
	Type(ctx context.Context) (string, error)
	// UpdateHash records the canary and stable pod-template hashes.
	UpdateHash(ctx context.Context, ro *v1alpha1.Rollout, canaryHash, stableHash string, additional []v1alpha1.WeightDestination) error
	// SetWeight sends desiredWeight (of maxTrafficWeight) to the canary and the rest to stable.
	SetWeight(ctx context.Context, ro *v1alpha1.Rollout, desiredWeight int32, additional []v1alpha1.WeightDestination) error
	// SetHeaderRoute adds (or, with a nil Match, removes) a managed header route to the canary.
	SetHeaderRoute(ctx context.Context, ro *v1alpha1.Rollout, route *v1alpha1.SetHeaderRoute) error
	// SetMirrorRoute adds (or, with a nil Match, removes) a managed mirror route.
	SetMirrorRoute(ctx context.Context, ro *v1alpha1.Rollout, route *v1alpha1.SetMirrorRoute) error
	// VerifyWeight reports whether desiredWeight is in effect.
	VerifyWeight(ctx context.Context, ro *v1alpha1.Rollout, desiredWeight int32, additional []v1alpha1.WeightDestination) (RpcVerified, error)
	// RemoveManagedRoutes removes every header and mirror route the plugin added.
	RemoveManagedRoutes(ctx context.Context, ro *v1alpha1.Rollout) error
}

// MetricProvider is a metric-provider plugin as Go sees it (implementations and the host-side
// RPC client alike). The Metric arrives with {{args.x}} already substituted; the provider
// evaluates successCondition/failureCondition itself and returns the measurement's phase.
type MetricProvider interface {
	// InitPlugin is called once after the process starts (and again after a respawn).
	InitPlugin(ctx context.Context) error
	// Type names the provider.
	Type(ctx context.Context) (string, error)
	// Run takes a measurement. A returned error becomes a Measurement with Phase Error at the wire.
	Run(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric) (v1alpha1.Measurement, error)
	// Resume continues an in-flight (Phase Running) measurement.
	Resume(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric, m v1alpha1.Measurement) (v1alpha1.Measurement, error)
	// Terminate stops an in-flight measurement.
	Terminate(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric, m v1alpha1.Measurement) (v1alpha1.Measurement, error)
	// GarbageCollect drops provider-side state beyond limit measurements.
	GarbageCollect(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric, limit int) error
	// GetMetadata returns metadata stored on the MetricResult (e.g. the resolved query).
	GetMetadata(ctx context.Context, metric v1alpha1.Metric) (map[string]string, error)
}
