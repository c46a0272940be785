// Package testimpl holds the test plugins' implementations (test data, never shipped): a
// traffic router and a metric provider that behave well, record every call's arguments as JSON
// lines (for wire assertions) and can be told to misbehave.
package testimpl

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

// Behaviour configures a test plugin (from its command line).
type Behaviour struct {
	// Echo is a file every call appends {"method":..., "args":...} to.
	Echo string
	// InitFails makes the first N InitPlugin calls of the process fail.
	InitFails int
	// CrashOn makes the named method ("SetWeight", "Run", ...) kill the process mid-call.
	CrashOn string
	// PanicBeforeInit makes every method but InitPlugin/Type crash the process until InitPlugin ran.
	PanicBeforeInit bool
	// Sleep delays every call but InitPlugin/Type.
	Sleep time.Duration
}

// Flags parses the behaviour flags.
func Flags() Behaviour {
	var b Behaviour
	flag.StringVar(&b.Echo, "echo", "", "append every call's arguments to this file")
	flag.IntVar(&b.InitFails, "init-fails", 0, "fail the first N InitPlugin calls")
	flag.StringVar(&b.CrashOn, "crash-on", "", "crash the process in this method")
	flag.BoolVar(&b.PanicBeforeInit, "panic-before-init", false, "crash in any method called before InitPlugin")
	flag.DurationVar(&b.Sleep, "sleep", 0, "delay every call")
	flag.Parse()
	return b
}

// state is what both test plugins share.
type state struct {
	b     Behaviour
	mu    sync.Mutex
	inits int
	ready bool
}

// enter runs a method's misbehaviour and records its arguments.
func (s *state) enter(method string, args any) error {
	s.mu.Lock()
	ready := s.ready
	s.mu.Unlock()
	if s.b.PanicBeforeInit && !ready {
		crash(method + " called before InitPlugin: nil pointer dereference")
	}
	if s.b.CrashOn == method {
		crash("crashing in " + method + " as told")
	}
	if s.b.Sleep > 0 {
		time.Sleep(s.b.Sleep)
	}
	return s.record(method, args)
}

// crash kills the process with an unrecovered panic in another goroutine (the server's recover
// in the handler goroutine cannot catch it), like a plugin dereferencing nil state would.
func crash(msg string) {
	go func() { panic(msg) }()
	select {}
}

// record appends one call to the echo file.
func (s *state) record(method string, args any) error {
	if s.b.Echo == "" {
		return nil
	}
	line, err := json.Marshal(map[string]any{"method": method, "args": args})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.b.Echo, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	return errors.Join(err, f.Close())
}

// initPlugin implements InitPlugin for both kinds.
func (s *state) initPlugin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inits++
	if s.inits <= s.b.InitFails {
		return fmt.Errorf("init failure %d of %d (as told)", s.inits, s.b.InitFails)
	}
	s.ready = true
	return nil
}

// Router is the test traffic router: it remembers the last weight per rollout.
type Router struct {
	state
	weights map[string]int32
}

// NewRouter returns a router with behaviour b.
func NewRouter(b Behaviour) *Router {
	return &Router{state: state{b: b}, weights: map[string]int32{}}
}

// InitPlugin implements plugins.TrafficRouter.
func (r *Router) InitPlugin(context.Context) error { return r.initPlugin() }

// Type implements plugins.TrafficRouter.
func (r *Router) Type(context.Context) (string, error) { return "TestRouter", nil }

// UpdateHash implements plugins.TrafficRouter.
func (r *Router) UpdateHash(_ context.Context, ro *v1alpha1.Rollout, canaryHash, stableHash string, additional []v1alpha1.WeightDestination) error {
	return r.enter("UpdateHash", plugins.UpdateHashArgs{Rollout: *ro, CanaryHash: canaryHash, StableHash: stableHash, AdditionalDestinations: additional})
}

// SetWeight implements plugins.TrafficRouter.
func (r *Router) SetWeight(_ context.Context, ro *v1alpha1.Rollout, w int32, additional []v1alpha1.WeightDestination) error {
	if err := r.enter("SetWeight", plugins.SetWeightAndVerifyWeightArgs{Rollout: *ro, DesiredWeight: w, AdditionalDestinations: additional}); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.weights[ro.Namespace+"/"+ro.Name] = w
	return nil
}

// SetHeaderRoute implements plugins.TrafficRouter.
func (r *Router) SetHeaderRoute(_ context.Context, ro *v1alpha1.Rollout, route *v1alpha1.SetHeaderRoute) error {
	return r.enter("SetHeaderRoute", plugins.SetHeaderArgs{Rollout: *ro, SetHeaderRoute: *route})
}

// SetMirrorRoute implements plugins.TrafficRouter.
func (r *Router) SetMirrorRoute(_ context.Context, ro *v1alpha1.Rollout, route *v1alpha1.SetMirrorRoute) error {
	return r.enter("SetMirrorRoute", plugins.SetMirrorArgs{Rollout: *ro, SetMirrorRoute: *route})
}

// VerifyWeight implements plugins.TrafficRouter.
func (r *Router) VerifyWeight(_ context.Context, ro *v1alpha1.Rollout, w int32, additional []v1alpha1.WeightDestination) (plugins.RpcVerified, error) {
	if err := r.enter("VerifyWeight", plugins.SetWeightAndVerifyWeightArgs{Rollout: *ro, DesiredWeight: w, AdditionalDestinations: additional}); err != nil {
		return plugins.NotVerified, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if got, ok := r.weights[ro.Namespace+"/"+ro.Name]; ok && got == w {
		return plugins.Verified, nil
	}
	return plugins.NotVerified, nil
}

// RemoveManagedRoutes implements plugins.TrafficRouter.
func (r *Router) RemoveManagedRoutes(_ context.Context, ro *v1alpha1.Rollout) error {
	return r.enter("RemoveManagedRoutes", plugins.RemoveManagedRoutesArgs{Rollout: *ro})
}

// Provider is the test metric provider: Run succeeds with the metric's name as value.
type Provider struct{ state }

// NewProvider returns a provider with behaviour b.
func NewProvider(b Behaviour) *Provider { return &Provider{state: state{b: b}} }

// InitPlugin implements plugins.MetricProvider.
func (p *Provider) InitPlugin(context.Context) error { return p.initPlugin() }

// Type implements plugins.MetricProvider.
func (p *Provider) Type(context.Context) (string, error) { return "TestProvider", nil }

// finished returns a finished measurement of phase.
func finished(phase v1alpha1.AnalysisPhase, value string) v1alpha1.Measurement {
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	return v1alpha1.Measurement{Phase: phase, Value: value, StartedAt: &now, FinishedAt: &now, Metadata: map[string]string{"plugin": "test"}}
}

// Run implements plugins.MetricProvider.
func (p *Provider) Run(_ context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric) (v1alpha1.Measurement, error) {
	if err := p.enter("Run", plugins.RunArgs{AnalysisRun: run, Metric: m}); err != nil {
		return v1alpha1.Measurement{}, err
	}
	return finished(v1alpha1.AnalysisPhaseSuccessful, m.Name), nil
}

// Resume implements plugins.MetricProvider.
func (p *Provider) Resume(_ context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, in v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	if err := p.enter("Resume", plugins.TerminateAndResumeArgs{AnalysisRun: run, Metric: m, Measurement: in}); err != nil {
		return v1alpha1.Measurement{}, err
	}
	return in, nil
}

// Terminate implements plugins.MetricProvider.
func (p *Provider) Terminate(_ context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, in v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	if err := p.enter("Terminate", plugins.TerminateAndResumeArgs{AnalysisRun: run, Metric: m, Measurement: in}); err != nil {
		return v1alpha1.Measurement{}, err
	}
	in.Phase = v1alpha1.AnalysisPhaseSuccessful
	return in, nil
}

// GarbageCollect implements plugins.MetricProvider.
func (p *Provider) GarbageCollect(_ context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, limit int) error {
	return p.enter("GarbageCollect", plugins.GarbageCollectArgs{AnalysisRun: run, Metric: m, Limit: limit})
}

// GetMetadata implements plugins.MetricProvider.
func (p *Provider) GetMetadata(_ context.Context, m v1alpha1.Metric) (map[string]string, error) {
	if err := p.enter("GetMetadata", plugins.GetMetadataArgs{Metric: m}); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(m.Provider.Plugin))
	for k := range m.Provider.Plugin {
		keys = append(keys, k)
	}
	return map[string]string{"metric": m.Name, "plugins": strings.Join(keys, ",")}, nil
}
