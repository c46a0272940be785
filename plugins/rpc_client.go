package plugins

import (
	"context"
	"errors"
	"fmt"
	"net/rpc"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// DefaultCallTimeout bounds one RPC when the caller's ctx has no earlier deadline.
const DefaultCallTimeout = 30 * time.Second

// ErrCallTimeout is wrapped by the error of a call that ran out of time.
var ErrCallTimeout = errors.New("plugin call timed out")

// PluginError is an error the plugin itself returned (an RpcError), as opposed to a transport,
// gob or timeout failure of the call.
type PluginError struct {
	Method  string
	Message string
}

// Error implements error.
func (e *PluginError) Error() string { return e.Message }

// caller issues net/rpc calls bounded by ctx and a default timeout. net/rpc has no ctx, so a call
// that times out is abandoned (its reply is discarded when it arrives).
type caller struct {
	client  *rpc.Client
	timeout time.Duration
}

// call performs one RPC. args is sent as an interface value, so gob transmits its registered name.
func (c caller) call(ctx context.Context, method string, args any, reply any) error {
	timeout := c.timeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var wireArgs = args
	done := c.client.Go(method, &wireArgs, reply, make(chan *rpc.Call, 1)).Done
	select {
	case res := <-done:
		if res.Error != nil {
			return fmt.Errorf("%s rpc call error: %w", method, res.Error)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s rpc call error: %w after %s: %w", method, ErrCallTimeout, timeout, ctx.Err())
	}
}

// asError turns a wire RpcError into a Go error.
func asError(method string, e RpcError) error {
	if !e.HasError() {
		return nil
	}
	return &PluginError{Method: method, Message: e.ErrorString}
}

// TrafficRouterClient is the host side of a traffic-router plugin; it implements TrafficRouter.
type TrafficRouterClient struct{ c caller }

// NewTrafficRouterClient wraps a dispensed net/rpc client. timeout bounds each call (0 = default).
func NewTrafficRouterClient(client *rpc.Client, timeout time.Duration) *TrafficRouterClient {
	RegisterGobNames()
	return &TrafficRouterClient{c: caller{client: client, timeout: timeout}}
}

func (t *TrafficRouterClient) rpcErrCall(ctx context.Context, method string, args any) error {
	var resp RpcError
	if err := t.c.call(ctx, method, args, &resp); err != nil {
		return err
	}
	return asError(method, resp)
}

// InitPlugin implements TrafficRouter.
func (t *TrafficRouterClient) InitPlugin(ctx context.Context) error {
	return t.rpcErrCall(ctx, MethodInitPlugin, nil)
}

// Type implements TrafficRouter.
func (t *TrafficRouterClient) Type(ctx context.Context) (string, error) {
	var resp string
	err := t.c.call(ctx, MethodType, nil, &resp)
	return resp, err
}

// UpdateHash implements TrafficRouter.
func (t *TrafficRouterClient) UpdateHash(ctx context.Context, ro *v1alpha1.Rollout, canaryHash, stableHash string, additional []v1alpha1.WeightDestination) error {
	return t.rpcErrCall(ctx, MethodUpdateHash, UpdateHashArgs{Rollout: *ro, CanaryHash: canaryHash, StableHash: stableHash, AdditionalDestinations: additional})
}

// SetWeight implements TrafficRouter.
func (t *TrafficRouterClient) SetWeight(ctx context.Context, ro *v1alpha1.Rollout, desiredWeight int32, additional []v1alpha1.WeightDestination) error {
	return t.rpcErrCall(ctx, MethodSetWeight, SetWeightAndVerifyWeightArgs{Rollout: *ro, DesiredWeight: desiredWeight, AdditionalDestinations: additional})
}

// SetHeaderRoute implements TrafficRouter.
func (t *TrafficRouterClient) SetHeaderRoute(ctx context.Context, ro *v1alpha1.Rollout, route *v1alpha1.SetHeaderRoute) error {
	return t.rpcErrCall(ctx, MethodSetHeaderRoute, SetHeaderArgs{Rollout: *ro, SetHeaderRoute: *route})
}

// SetMirrorRoute implements TrafficRouter.
func (t *TrafficRouterClient) SetMirrorRoute(ctx context.Context, ro *v1alpha1.Rollout, route *v1alpha1.SetMirrorRoute) error {
	return t.rpcErrCall(ctx, MethodSetMirrorRoute, SetMirrorArgs{Rollout: *ro, SetMirrorRoute: *route})
}

// VerifyWeight implements TrafficRouter.
func (t *TrafficRouterClient) VerifyWeight(ctx context.Context, ro *v1alpha1.Rollout, desiredWeight int32, additional []v1alpha1.WeightDestination) (RpcVerified, error) {
	var resp VerifyWeightResponse
	args := SetWeightAndVerifyWeightArgs{Rollout: *ro, DesiredWeight: desiredWeight, AdditionalDestinations: additional}
	if err := t.c.call(ctx, MethodVerifyWeight, args, &resp); err != nil {
		return NotVerified, err
	}
	return resp.Verified, asError(MethodVerifyWeight, resp.Err)
}

// RemoveManagedRoutes implements TrafficRouter.
func (t *TrafficRouterClient) RemoveManagedRoutes(ctx context.Context, ro *v1alpha1.Rollout) error {
	return t.rpcErrCall(ctx, MethodRemoveManagedRoutes, RemoveManagedRoutesArgs{Rollout: *ro})
}

// MetricProviderClient is the host side of a metric-provider plugin; it implements MetricProvider.
type MetricProviderClient struct{ c caller }

// NewMetricProviderClient wraps a dispensed net/rpc client. timeout bounds each call (0 = default).
func NewMetricProviderClient(client *rpc.Client, timeout time.Duration) *MetricProviderClient {
	RegisterGobNames()
	return &MetricProviderClient{c: caller{client: client, timeout: timeout}}
}

// InitPlugin implements MetricProvider.
func (m *MetricProviderClient) InitPlugin(ctx context.Context) error {
	var resp RpcError
	if err := m.c.call(ctx, MethodInitPlugin, nil, &resp); err != nil {
		return err
	}
	return asError(MethodInitPlugin, resp)
}

// Type implements MetricProvider.
func (m *MetricProviderClient) Type(ctx context.Context) (string, error) {
	var resp string
	err := m.c.call(ctx, MethodType, nil, &resp)
	return resp, err
}

// measurement returns the plugin's measurement; a transport failure is an error (the caller turns
// it into an Error measurement), while a plugin-reported Error phase is passed through as is.
func (m *MetricProviderClient) measurement(ctx context.Context, method string, args any) (v1alpha1.Measurement, error) {
	var resp v1alpha1.Measurement
	if err := m.c.call(ctx, method, args, &resp); err != nil {
		return v1alpha1.Measurement{}, err
	}
	return resp, nil
}

// Run implements MetricProvider.
func (m *MetricProviderClient) Run(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric) (v1alpha1.Measurement, error) {
	return m.measurement(ctx, MethodRun, RunArgs{AnalysisRun: run, Metric: metric})
}

// Resume implements MetricProvider.
func (m *MetricProviderClient) Resume(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric, ms v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	return m.measurement(ctx, MethodResume, TerminateAndResumeArgs{AnalysisRun: run, Metric: metric, Measurement: ms})
}

// Terminate implements MetricProvider.
func (m *MetricProviderClient) Terminate(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric, ms v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	return m.measurement(ctx, MethodTerminate, TerminateAndResumeArgs{AnalysisRun: run, Metric: metric, Measurement: ms})
}

// GarbageCollect implements MetricProvider.
func (m *MetricProviderClient) GarbageCollect(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric, limit int) error {
	var resp RpcError
	if err := m.c.call(ctx, MethodGarbageCollect, GarbageCollectArgs{AnalysisRun: run, Metric: metric, Limit: limit}, &resp); err != nil {
		return err
	}
	return asError(MethodGarbageCollect, resp)
}

// GetMetadata implements MetricProvider.
func (m *MetricProviderClient) GetMetadata(ctx context.Context, metric v1alpha1.Metric) (map[string]string, error) {
	var resp map[string]string
	if err := m.c.call(ctx, MethodGetMetadata, GetMetadataArgs{Metric: metric}, &resp); err != nil {
		return nil, err
	}
	return resp, nil
}
