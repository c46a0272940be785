package nerveside

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/interop/internal/bins"
	"github.com/nerve-rollouts/nerve/interop/internal/doc"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/host"
)

// load decodes the golden document name into a nerve value.
func load[T any](t *testing.T, name string) T {
	t.Helper()
	raw, err := doc.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// newHost returns a nerve host running one entry for bin.
func newHost(t *testing.T, kind plugins.Kind, name, bin string, args ...string) *host.Host {
	t.Helper()
	sum, err := host.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	h := host.New(host.Options{Logger: hclog.New(&hclog.LoggerOptions{Name: "interop", Level: hclog.Warn}), CallTimeout: 20 * time.Second})
	e := host.Entry{Name: name, Kind: kind, Location: "file://" + bin, SHA256: sum, Args: args}
	if kind == plugins.KindMetricProvider {
		h.SetRegistry(host.Registry{MetricProviders: []host.Entry{e}})
	} else {
		h.SetRegistry(host.Registry{TrafficRouters: []host.Entry{e}})
	}
	t.Cleanup(h.Close)
	return h
}

// echoed asserts the Argo-served plugin received (echo = JSON of Argo's types) the golden
// document nerve sent, for each method → golden name.
func echoed(t *testing.T, path string, sent map[string]string) {
	t.Helper()
	calls, err := doc.ReadCalls(path)
	if err != nil {
		t.Fatal(err)
	}
	methods := make([]string, 0, len(sent))
	for m := range sent {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	for _, method := range methods {
		raw, ok := calls[method]
		if !ok {
			t.Errorf("%s: the Argo-served plugin did not receive the call", method)
			continue
		}
		golden, err := doc.Read(sent[method])
		if err != nil {
			t.Fatal(err)
		}
		want, _ := doc.Parse(golden)
		got, err := doc.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if diffs := doc.Subset(want, got); len(diffs) > 0 {
			t.Errorf("%s: Argo's types received something else than nerve sent:\n%s", method, doc.Report(diffs))
		}
	}
	if _, ok := calls["InitPlugin"]; !ok {
		t.Error("InitPlugin was not called by the host")
	}
}

// TestNerveHostDrivesArgoTrafficRouter: nerve's host calls all 8 methods of a traffic router
// served with Argo v1.10.0's RpcTrafficRouterPlugin; every field arrives.
func TestNerveHostDrivesArgoTrafficRouter(t *testing.T) {
	ctx := context.Background()
	echo := filepath.Join(t.TempDir(), "echo")
	h := newHost(t, plugins.KindTrafficRouter, "argoproj/echo", built[bins.ArgoRouter], "--echo="+echo)
	r, err := h.TrafficRouter(ctx, "argoproj/echo")
	if err != nil {
		t.Fatal(err)
	}
	must := func(method string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", method, err)
		}
	}
	must("InitPlugin", r.InitPlugin(ctx))
	if typ, err := r.Type(ctx); err != nil || typ != "ArgoEchoRouter" {
		t.Errorf("Type = %q, %v", typ, err)
	}
	uh := load[plugins.UpdateHashArgs](t, "UpdateHashArgs")
	must("UpdateHash", r.UpdateHash(ctx, &uh.Rollout, uh.CanaryHash, uh.StableHash, uh.AdditionalDestinations))
	sw := load[plugins.SetWeightAndVerifyWeightArgs](t, "SetWeightAndVerifyWeightArgs")
	must("SetWeight", r.SetWeight(ctx, &sw.Rollout, sw.DesiredWeight, sw.AdditionalDestinations))
	sh := load[plugins.SetHeaderArgs](t, "SetHeaderArgs")
	must("SetHeaderRoute", r.SetHeaderRoute(ctx, &sh.Rollout, &sh.SetHeaderRoute))
	sm := load[plugins.SetMirrorArgs](t, "SetMirrorArgs")
	must("SetMirrorRoute", r.SetMirrorRoute(ctx, &sm.Rollout, &sm.SetMirrorRoute))
	v, err := r.VerifyWeight(ctx, &sw.Rollout, sw.DesiredWeight, sw.AdditionalDestinations)
	must("VerifyWeight", err)
	if v != plugins.Verified {
		t.Errorf("VerifyWeight = %v", v)
	}
	rm := load[plugins.RemoveManagedRoutesArgs](t, "RemoveManagedRoutesArgs")
	must("RemoveManagedRoutes", r.RemoveManagedRoutes(ctx, &rm.Rollout))

	echoed(t, echo, map[string]string{
		"UpdateHash": "UpdateHashArgs", "SetWeight": "SetWeightAndVerifyWeightArgs", "VerifyWeight": "SetWeightAndVerifyWeightArgs",
		"SetHeaderRoute": "SetHeaderArgs", "SetMirrorRoute": "SetMirrorArgs", "RemoveManagedRoutes": "RemoveManagedRoutesArgs",
	})
}

// TestNerveHostDrivesArgoMetricProvider: nerve's host calls all 7 methods of a metric provider
// served with Argo v1.10.0's RpcMetricProviderPlugin; every field arrives both ways.
func TestNerveHostDrivesArgoMetricProvider(t *testing.T) {
	ctx := context.Background()
	echo := filepath.Join(t.TempDir(), "echo")
	h := newHost(t, plugins.KindMetricProvider, "argoproj/echo", built[bins.ArgoProvider], "--echo="+echo)
	p, err := h.MetricProvider(ctx, "argoproj/echo")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.InitPlugin(ctx); err != nil {
		t.Error(err)
	}
	if typ, err := p.Type(ctx); err != nil || typ != "ArgoEchoProvider" {
		t.Errorf("Type = %q, %v", typ, err)
	}
	answer := func(method string, ms v1alpha1.Measurement, err error) {
		t.Helper()
		at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
		if err != nil || ms.Phase != v1alpha1.AnalysisPhaseSuccessful || ms.Value != "42" || ms.Metadata["served-by"] != "argo" ||
			ms.StartedAt == nil || !ms.StartedAt.Time.Equal(at) || ms.FinishedAt == nil || !ms.FinishedAt.Time.Equal(at) ||
			ms.ResumeAt == nil || !ms.ResumeAt.Time.Equal(at) {
			t.Errorf("%s = %+v, %v", method, ms, err)
		}
	}
	ra := load[plugins.RunArgs](t, "RunArgs")
	ms, err := p.Run(ctx, ra.AnalysisRun, ra.Metric)
	answer("Run", ms, err)
	tr := load[plugins.TerminateAndResumeArgs](t, "TerminateAndResumeArgs")
	ms, err = p.Resume(ctx, tr.AnalysisRun, tr.Metric, tr.Measurement)
	answer("Resume", ms, err)
	ms, err = p.Terminate(ctx, tr.AnalysisRun, tr.Metric, tr.Measurement)
	answer("Terminate", ms, err)
	gc := load[plugins.GarbageCollectArgs](t, "GarbageCollectArgs")
	if err := p.GarbageCollect(ctx, gc.AnalysisRun, gc.Metric, gc.Limit); err != nil {
		t.Error(err)
	}
	gm := load[plugins.GetMetadataArgs](t, "GetMetadataArgs")
	if md, err := p.GetMetadata(ctx, gm.Metric); err != nil || md["served-by"] != "argo" || md["metric"] != gm.Metric.Name {
		t.Errorf("GetMetadata = %v, %v", md, err)
	}

	echoed(t, echo, map[string]string{
		"Run": "RunArgs", "Resume": "TerminateAndResumeArgs", "Terminate": "TerminateAndResumeArgs",
		"GarbageCollect": "GarbageCollectArgs", "GetMetadata": "GetMetadataArgs",
	})
}
