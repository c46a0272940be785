package plugins

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// This file holds the plugin-side net/rpc receivers. Their method sets are the wire methods
// ("Plugin.X"); each turns the wire arguments into a Go call on the implementation and flattens
// the returned error into RpcError (or an Error measurement). A panic in an implementation is
// recovered and returned as an error, so one bad call never takes the process down.

// rpcError flattens err for the wire.
func rpcError(err error) RpcError {
	if err == nil {
		return RpcError{}
	}
	return RpcError{ErrorString: err.Error()}
}

// errWrongArgs is returned when a call carries arguments of an unexpected type.
func errWrongArgs(method string, args any) error {
	return fmt.Errorf("%s: unexpected argument type %T", method, args)
}

// guard runs f, converting a panic into an error.
func guard(method string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: plugin panicked: %v", method, r)
		}
	}()
	return f()
}

// TrafficRouterServer serves a TrafficRouter over net/rpc.
type TrafficRouterServer struct {
	Impl TrafficRouter
	// Ctx is the base context of every call (the plugin process' lifetime).
	Ctx context.Context
}

// InitPlugin is Plugin.InitPlugin.
func (s *TrafficRouterServer) InitPlugin(_ any, resp *RpcError) error {
	*resp = rpcError(guard(MethodInitPlugin, func() error { return s.Impl.InitPlugin(s.Ctx) }))
	return nil
}

// Type is Plugin.Type.
func (s *TrafficRouterServer) Type(_ any, resp *string) error {
	err := guard(MethodType, func() error {
		t, err := s.Impl.Type(s.Ctx)
		*resp = t
		return err
	})
	if err != nil {
		*resp = fmt.Sprintf("Type error: %v", err)
	}
	return nil
}

// UpdateHash is Plugin.UpdateHash.
func (s *TrafficRouterServer) UpdateHash(args any, resp *RpcError) error {
	a, ok := args.(*UpdateHashArgs)
	if !ok {
		*resp = rpcError(errWrongArgs(MethodUpdateHash, args))
		return nil
	}
	*resp = rpcError(guard(MethodUpdateHash, func() error {
		return s.Impl.UpdateHash(s.Ctx, &a.Rollout, a.CanaryHash, a.StableHash, a.AdditionalDestinations)
	}))
	return nil
}

// SetWeight is Plugin.SetWeight.
func (s *TrafficRouterServer) SetWeight(args any, resp *RpcError) error {
	a, ok := args.(*SetWeightAndVerifyWeightArgs)
	if !ok {
		*resp = rpcError(errWrongArgs(MethodSetWeight, args))
		return nil
	}
	*resp = rpcError(guard(MethodSetWeight, func() error {
		return s.Impl.SetWeight(s.Ctx, &a.Rollout, a.DesiredWeight, a.AdditionalDestinations)
	}))
	return nil
}

// SetHeaderRoute is Plugin.SetHeaderRoute.
func (s *TrafficRouterServer) SetHeaderRoute(args any, resp *RpcError) error {
	a, ok := args.(*SetHeaderArgs)
	if !ok {
		*resp = rpcError(errWrongArgs(MethodSetHeaderRoute, args))
		return nil
	}
	*resp = rpcError(guard(MethodSetHeaderRoute, func() error {
		return s.Impl.SetHeaderRoute(s.Ctx, &a.Rollout, &a.SetHeaderRoute)
	}))
	return nil
}

// SetMirrorRoute is Plugin.SetMirrorRoute.
func (s *TrafficRouterServer) SetMirrorRoute(args any, resp *RpcError) error {
	a, ok := args.(*SetMirrorArgs)
	if !ok {
		*resp = rpcError(errWrongArgs(MethodSetMirrorRoute, args))
		return nil
	}
	*resp = rpcError(guard(MethodSetMirrorRoute, func() error {
		return s.Impl.SetMirrorRoute(s.Ctx, &a.Rollout, &a.SetMirrorRoute)
	}))
	return nil
}

// VerifyWeight is Plugin.VerifyWeight.
func (s *TrafficRouterServer) VerifyWeight(args any, resp *VerifyWeightResponse) error {
	a, ok := args.(*SetWeightAndVerifyWeightArgs)
	if !ok {
		*resp = VerifyWeightResponse{Err: rpcError(errWrongArgs(MethodVerifyWeight, args))}
		return nil
	}
	var v RpcVerified
	err := guard(MethodVerifyWeight, func() error {
		var err error
		v, err = s.Impl.VerifyWeight(s.Ctx, &a.Rollout, a.DesiredWeight, a.AdditionalDestinations)
		return err
	})
	*resp = VerifyWeightResponse{Verified: v, Err: rpcError(err)}
	return nil
}

// RemoveManagedRoutes is Plugin.RemoveManagedRoutes.
func (s *TrafficRouterServer) RemoveManagedRoutes(args any, resp *RpcError) error {
	a, ok := args.(*RemoveManagedRoutesArgs)
	if !ok {
		*resp = rpcError(errWrongArgs(MethodRemoveManagedRoutes, args))
		return nil
	}
	*resp = rpcError(guard(MethodRemoveManagedRoutes, func() error { return s.Impl.RemoveManagedRoutes(s.Ctx, &a.Rollout) }))
	return nil
}

// MetricProviderServer serves a MetricProvider over net/rpc.
type MetricProviderServer struct {
	Impl MetricProvider
	// Ctx is the base context of every call (the plugin process' lifetime).
	Ctx context.Context
}

// errorMeasurement is the measurement a failed call turns into at the wire.
func errorMeasurement(err error) v1alpha1.Measurement {
	now := metav1.NewTime(time.Now())
	return v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseError, Message: err.Error(), StartedAt: &now, FinishedAt: &now}
}

// measure runs one measurement call and flattens its error into the measurement.
func measure(method string, f func() (v1alpha1.Measurement, error)) v1alpha1.Measurement {
	var m v1alpha1.Measurement
	err := guard(method, func() error {
		var err error
		m, err = f()
		return err
	})
	if err != nil {
		return errorMeasurement(err)
	}
	return m
}

// InitPlugin is Plugin.InitPlugin.
func (s *MetricProviderServer) InitPlugin(_ any, resp *RpcError) error {
	*resp = rpcError(guard(MethodInitPlugin, func() error { return s.Impl.InitPlugin(s.Ctx) }))
	return nil
}

// Type is Plugin.Type.
func (s *MetricProviderServer) Type(_ any, resp *string) error {
	err := guard(MethodType, func() error {
		t, err := s.Impl.Type(s.Ctx)
		*resp = t
		return err
	})
	if err != nil {
		*resp = fmt.Sprintf("Type error: %v", err)
	}
	return nil
}

// Run is Plugin.Run.
func (s *MetricProviderServer) Run(args any, resp *v1alpha1.Measurement) error {
	a, ok := args.(*RunArgs)
	if !ok {
		*resp = errorMeasurement(errWrongArgs(MethodRun, args))
		return nil
	}
	*resp = measure(MethodRun, func() (v1alpha1.Measurement, error) { return s.Impl.Run(s.Ctx, a.AnalysisRun, a.Metric) })
	return nil
}

// Resume is Plugin.Resume.
func (s *MetricProviderServer) Resume(args any, resp *v1alpha1.Measurement) error {
	a, ok := args.(*TerminateAndResumeArgs)
	if !ok {
		*resp = errorMeasurement(errWrongArgs(MethodResume, args))
		return nil
	}
	*resp = measure(MethodResume, func() (v1alpha1.Measurement, error) {
		return s.Impl.Resume(s.Ctx, a.AnalysisRun, a.Metric, a.Measurement)
	})
	return nil
}

// Terminate is Plugin.Terminate.
func (s *MetricProviderServer) Terminate(args any, resp *v1alpha1.Measurement) error {
	a, ok := args.(*TerminateAndResumeArgs)
	if !ok {
		*resp = errorMeasurement(errWrongArgs(MethodTerminate, args))
		return nil
	}
	*resp = measure(MethodTerminate, func() (v1alpha1.Measurement, error) {
		return s.Impl.Terminate(s.Ctx, a.AnalysisRun, a.Metric, a.Measurement)
	})
	return nil
}

// GarbageCollect is Plugin.GarbageCollect.
func (s *MetricProviderServer) GarbageCollect(args any, resp *RpcError) error {
	a, ok := args.(*GarbageCollectArgs)
	if !ok {
		*resp = rpcError(errWrongArgs(MethodGarbageCollect, args))
		return nil
	}
	*resp = rpcError(guard(MethodGarbageCollect, func() error {
		return s.Impl.GarbageCollect(s.Ctx, a.AnalysisRun, a.Metric, a.Limit)
	}))
	return nil
}

// GetMetadata is Plugin.GetMetadata.
func (s *MetricProviderServer) GetMetadata(args any, resp *map[string]string) error {
	a, ok := args.(*GetMetadataArgs)
	if !ok {
		*resp = map[string]string{"error": errWrongArgs(MethodGetMetadata, args).Error()}
		return nil
	}
	err := guard(MethodGetMetadata, func() error {
		md, err := s.Impl.GetMetadata(s.Ctx, a.Metric)
		*resp = md
		return err
	})
	if err != nil {
		*resp = map[string]string{"error": err.Error()}
	}
	return nil
}

// ErrNotInitialized is what implementations may return when a call arrives before a successful
// InitPlugin and they cannot initialise lazily.
var ErrNotInitialized = errors.New("plugin is not initialised: InitPlugin failed or was never called")
