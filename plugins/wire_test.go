package plugins_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-plugin"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

// echo implements both plugin kinds and records the arguments of every call.
type echo struct {
	mu   sync.Mutex
	got  map[string]any
	resp v1alpha1.Measurement
	fail error
}

func (e *echo) rec(method string, args any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got[method] = args
	return e.fail
}

func (e *echo) InitPlugin(context.Context) error { return e.rec("InitPlugin", nil) }
func (e *echo) Type(context.Context) (string, error) {
	return "Echo", e.rec("Type", nil)
}
func (e *echo) UpdateHash(_ context.Context, ro *v1alpha1.Rollout, c, s string, add []v1alpha1.WeightDestination) error {
	return e.rec("UpdateHash", plugins.UpdateHashArgs{Rollout: *ro, CanaryHash: c, StableHash: s, AdditionalDestinations: add})
}
func (e *echo) SetWeight(_ context.Context, ro *v1alpha1.Rollout, w int32, add []v1alpha1.WeightDestination) error {
	return e.rec("SetWeight", plugins.SetWeightAndVerifyWeightArgs{Rollout: *ro, DesiredWeight: w, AdditionalDestinations: add})
}
func (e *echo) SetHeaderRoute(_ context.Context, ro *v1alpha1.Rollout, r *v1alpha1.SetHeaderRoute) error {
	return e.rec("SetHeaderRoute", plugins.SetHeaderArgs{Rollout: *ro, SetHeaderRoute: *r})
}
func (e *echo) SetMirrorRoute(_ context.Context, ro *v1alpha1.Rollout, r *v1alpha1.SetMirrorRoute) error {
	return e.rec("SetMirrorRoute", plugins.SetMirrorArgs{Rollout: *ro, SetMirrorRoute: *r})
}
func (e *echo) VerifyWeight(_ context.Context, ro *v1alpha1.Rollout, w int32, add []v1alpha1.WeightDestination) (plugins.RpcVerified, error) {
	return plugins.Verified, e.rec("VerifyWeight", plugins.SetWeightAndVerifyWeightArgs{Rollout: *ro, DesiredWeight: w, AdditionalDestinations: add})
}
func (e *echo) RemoveManagedRoutes(_ context.Context, ro *v1alpha1.Rollout) error {
	return e.rec("RemoveManagedRoutes", plugins.RemoveManagedRoutesArgs{Rollout: *ro})
}
func (e *echo) Run(_ context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric) (v1alpha1.Measurement, error) {
	return e.resp, e.rec("Run", plugins.RunArgs{AnalysisRun: run, Metric: m})
}
func (e *echo) Resume(_ context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, ms v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	return e.resp, e.rec("Resume", plugins.TerminateAndResumeArgs{AnalysisRun: run, Metric: m, Measurement: ms})
}
func (e *echo) Terminate(_ context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, ms v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	return e.resp, e.rec("Terminate", plugins.TerminateAndResumeArgs{AnalysisRun: run, Metric: m, Measurement: ms})
}
func (e *echo) GarbageCollect(_ context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, limit int) error {
	return e.rec("GarbageCollect", plugins.GarbageCollectArgs{AnalysisRun: run, Metric: m, Limit: limit})
}
func (e *echo) GetMetadata(_ context.Context, m v1alpha1.Metric) (map[string]string, error) {
	return map[string]string{"k": "v"}, e.rec("GetMetadata", plugins.GetMetadataArgs{Metric: m})
}

// connect serves impl in-process over go-plugin's real net/rpc + gob path and dispenses it.
func connect(t *testing.T, kind plugins.Kind, impl *echo) any {
	t.Helper()
	ctx := context.Background()
	ps := plugin.PluginSet{
		plugins.DispenseTrafficRouter:  &plugins.TrafficRouterPlugin{Impl: impl, Ctx: ctx},
		plugins.DispenseMetricProvider: &plugins.MetricProviderPlugin{Impl: impl, Ctx: ctx},
	}
	client, _ := plugin.TestPluginRPCConn(t, ps, nil)
	t.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(plugins.DispenseKey(kind))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// same asserts the plugin received exactly what was sent.
func same(t *testing.T, e *echo, method string, sent any) {
	t.Helper()
	e.mu.Lock()
	got, ok := e.got[method]
	e.mu.Unlock()
	if !ok {
		t.Fatalf("%s: the plugin was not called", method)
	}
	if d := cmp.Diff(sent, got); d != "" {
		t.Errorf("%s: arguments changed on the wire (-sent +received):\n%s", method, d)
	}
}

// TestFixturesCoverReadFields guards the round trips below: the fixtures carry every field real
// plugins read (protocol doc §3) with non-zero values.
func TestFixturesCoverReadFields(t *testing.T) {
	a := filled[plugins.SetWeightAndVerifyWeightArgs]()
	ro := a.Rollout
	c := ro.Spec.Strategy.Canary
	checks := map[string]bool{
		"ObjectMeta.Name/Namespace":       ro.Name != "" && ro.Namespace != "",
		"ObjectMeta.CreationTimestamp":    !ro.CreationTimestamp.IsZero(),
		"Canary/StableService":            c.CanaryService != "" && c.StableService != "",
		"TrafficRouting.Plugins bytes":    len(c.TrafficRouting.Plugins) == 2,
		"TrafficRouting.ManagedRoutes":    len(c.TrafficRouting.ManagedRoutes) == 1,
		"TrafficRouting.MaxTrafficWeight": c.TrafficRouting.MaxTrafficWeight != nil,
		"Status.ObservedGeneration":       ro.Status.ObservedGeneration != "",
		"Status.Canary.CurrentExperiment": ro.Status.Canary.CurrentExperiment != "",
		"Status.Canary.Weights":           ro.Status.Canary.Weights != nil && len(ro.Status.Canary.Weights.Additional) == 1,
		"IntOrString (pause duration)":    c.Steps[0].Pause.Duration != nil,
		"AdditionalDestinations":          len(a.AdditionalDestinations) == 1 && a.AdditionalDestinations[0].ServiceName != "",
	}
	m := filled[plugins.RunArgs]().Metric
	checks["Metric.Provider.Plugin bytes"] = len(m.Provider.Plugin) == 2
	checks["Metric.Success/FailureCondition"] = m.SuccessCondition != "" && m.FailureCondition != ""
	checks["Metric.Count IntOrString"] = m.Count != nil
	for what, ok := range checks {
		if !ok {
			t.Errorf("fixture lacks %s", what)
		}
	}
}

func TestWireTrafficRouterRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := &echo{got: map[string]any{}}
	r := connect(t, plugins.KindTrafficRouter, e).(plugins.TrafficRouter)

	if err := r.InitPlugin(ctx); err != nil {
		t.Fatal(err)
	}
	if typ, err := r.Type(ctx); err != nil || typ != "Echo" {
		t.Fatalf("Type = %q, %v", typ, err)
	}
	uh := filled[plugins.UpdateHashArgs]()
	if err := r.UpdateHash(ctx, &uh.Rollout, uh.CanaryHash, uh.StableHash, uh.AdditionalDestinations); err != nil {
		t.Fatal(err)
	}
	same(t, e, "UpdateHash", uh)
	sw := filled[plugins.SetWeightAndVerifyWeightArgs]()
	if err := r.SetWeight(ctx, &sw.Rollout, sw.DesiredWeight, sw.AdditionalDestinations); err != nil {
		t.Fatal(err)
	}
	same(t, e, "SetWeight", sw)
	v, err := r.VerifyWeight(ctx, &sw.Rollout, sw.DesiredWeight, sw.AdditionalDestinations)
	if err != nil || v != plugins.Verified {
		t.Fatalf("VerifyWeight = %v, %v", v, err)
	}
	same(t, e, "VerifyWeight", sw)
	sh := filled[plugins.SetHeaderArgs]()
	if err := r.SetHeaderRoute(ctx, &sh.Rollout, &sh.SetHeaderRoute); err != nil {
		t.Fatal(err)
	}
	same(t, e, "SetHeaderRoute", sh)
	sm := filled[plugins.SetMirrorArgs]()
	if err := r.SetMirrorRoute(ctx, &sm.Rollout, &sm.SetMirrorRoute); err != nil {
		t.Fatal(err)
	}
	same(t, e, "SetMirrorRoute", sm)
	rm := filled[plugins.RemoveManagedRoutesArgs]()
	if err := r.RemoveManagedRoutes(ctx, &rm.Rollout); err != nil {
		t.Fatal(err)
	}
	same(t, e, "RemoveManagedRoutes", rm)
}

func TestWireMetricProviderRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := &echo{got: map[string]any{}, resp: filled[v1alpha1.Measurement]()}
	p := connect(t, plugins.KindMetricProvider, e).(plugins.MetricProvider)

	if err := p.InitPlugin(ctx); err != nil {
		t.Fatal(err)
	}
	if typ, err := p.Type(ctx); err != nil || typ != "Echo" {
		t.Fatalf("Type = %q, %v", typ, err)
	}
	ra := filled[plugins.RunArgs]()
	ms, err := p.Run(ctx, ra.AnalysisRun, ra.Metric)
	if err != nil {
		t.Fatal(err)
	}
	same(t, e, "Run", ra)
	if d := cmp.Diff(e.resp, ms); d != "" {
		t.Errorf("Run's measurement changed on the wire:\n%s", d)
	}
	tr := filled[plugins.TerminateAndResumeArgs]()
	if ms, err = p.Resume(ctx, tr.AnalysisRun, tr.Metric, tr.Measurement); err != nil || !cmp.Equal(e.resp, ms) {
		t.Fatalf("Resume = %v, %v", ms, err)
	}
	same(t, e, "Resume", tr)
	if ms, err = p.Terminate(ctx, tr.AnalysisRun, tr.Metric, tr.Measurement); err != nil || !cmp.Equal(e.resp, ms) {
		t.Fatalf("Terminate = %v, %v", ms, err)
	}
	same(t, e, "Terminate", tr)
	gc := filled[plugins.GarbageCollectArgs]()
	if err := p.GarbageCollect(ctx, gc.AnalysisRun, gc.Metric, gc.Limit); err != nil {
		t.Fatal(err)
	}
	same(t, e, "GarbageCollect", gc)
	gm := filled[plugins.GetMetadataArgs]()
	md, err := p.GetMetadata(ctx, gm.Metric)
	if err != nil || md["k"] != "v" {
		t.Fatalf("GetMetadata = %v, %v", md, err)
	}
	same(t, e, "GetMetadata", gm)
}

// TestWireErrors checks errors are flattened to RpcError at the wire and come back as
// PluginError (traffic router) or an Error measurement / error map (metric provider).
func TestWireErrors(t *testing.T) {
	ctx := context.Background()
	e := &echo{got: map[string]any{}, fail: errors.New("boom: config missing")}
	r := connect(t, plugins.KindTrafficRouter, e).(plugins.TrafficRouter)
	ro := filled[plugins.RemoveManagedRoutesArgs]().Rollout
	err := r.SetWeight(ctx, &ro, 5, nil)
	var pe *plugins.PluginError
	if !errors.As(err, &pe) || pe.Message != "boom: config missing" {
		t.Fatalf("SetWeight error = %#v", err)
	}
	if _, err := r.VerifyWeight(ctx, &ro, 5, nil); !errors.As(err, &pe) {
		t.Fatalf("VerifyWeight error = %#v", err)
	}
	if typ, _ := r.Type(ctx); !strings.Contains(typ, "boom") {
		t.Fatalf("Type = %q", typ)
	}
	p := connect(t, plugins.KindMetricProvider, e).(plugins.MetricProvider)
	ms, err := p.Run(ctx, &v1alpha1.AnalysisRun{}, v1alpha1.Metric{Name: "m"})
	if err != nil || ms.Phase != v1alpha1.AnalysisPhaseError || ms.Message != "boom: config missing" || ms.FinishedAt == nil {
		t.Fatalf("Run = %+v, %v", ms, err)
	}
	if md, _ := p.GetMetadata(ctx, v1alpha1.Metric{}); md["error"] != "boom: config missing" {
		t.Fatalf("GetMetadata = %v", md)
	}
}
