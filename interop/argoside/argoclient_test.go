package argoside

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	trpc "github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	rrpc "github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
	goPlugin "github.com/hashicorp/go-plugin"

	"github.com/nerve-rollouts/nerve/interop/internal/doc"
	"github.com/nerve-rollouts/nerve/plugins/conformance/testbin"
)

// nerveBins are nerve-served test plugins (built from the nerve module) built once.
var nerveBins map[string]string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nerve-interop-argoside")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	nerveBins, err = testbin.Build(dir, testbin.GoodRouter, testbin.GoodProvider)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// dispense starts bin the way Argo's controller does (its handshake, its plugin map, its RPC
// client types) and returns the dispensed Argo client.
func dispense(t *testing.T, bin, cookie, key string, p goPlugin.Plugin, args ...string) any {
	t.Helper()
	client := goPlugin.NewClient(&goPlugin.ClientConfig{
		HandshakeConfig: goPlugin.HandshakeConfig{ProtocolVersion: 1, MagicCookieKey: "ARGO_ROLLOUTS_RPC_PLUGIN", MagicCookieValue: cookie},
		Plugins:         map[string]goPlugin.Plugin{key: p},
		Cmd:             exec.Command(bin, args...),
	})
	t.Cleanup(client.Kill)
	rpcClient, err := client.Client()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rpcClient.Dispense(key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// load decodes the golden document name into an Argo value.
func load[T any](t *testing.T, name string) T {
	t.Helper()
	_, v := fixture(t, name)
	return *(v.(*T))
}

// echoed asserts what the nerve plugin received (its echo, JSON of nerve's types) equals the
// golden document the Argo client sent, for each method → golden name.
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
			t.Errorf("%s: the nerve plugin did not receive the call", method)
			continue
		}
		want, _ := fixture(t, sent[method])
		got, err := doc.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if diffs := doc.Subset(want, got); len(diffs) > 0 {
			t.Errorf("%s: the nerve plugin received something else than Argo sent:\n%s", method, doc.Report(diffs))
		}
	}
}

// TestArgoClientDrivesNerveTrafficRouter: Argo v1.10.0's RPC client calls all 8 methods of a
// nerve-served traffic router; every field arrives.
func TestArgoClientDrivesNerveTrafficRouter(t *testing.T) {
	echo := filepath.Join(t.TempDir(), "echo")
	r := dispense(t, nerveBins[testbin.GoodRouter], "trafficrouter", "RpcTrafficRouterPlugin",
		&rrpc.RpcTrafficRouterPlugin{}, "--echo="+echo).(rrpc.TrafficRouterPlugin)

	ok := func(method string, e types.RpcError) {
		t.Helper()
		if e.HasError() {
			t.Errorf("%s: %s", method, e.ErrorString)
		}
	}
	ok("InitPlugin", r.InitPlugin())
	if typ := r.Type(); typ != "TestRouter" {
		t.Errorf("Type = %q", typ)
	}
	uh := load[rrpc.UpdateHashArgs](t, "UpdateHashArgs")
	ok("UpdateHash", r.UpdateHash(&uh.Rollout, uh.CanaryHash, uh.StableHash, uh.AdditionalDestinations))
	sw := load[rrpc.SetWeightAndVerifyWeightArgs](t, "SetWeightAndVerifyWeightArgs")
	ok("SetWeight", r.SetWeight(&sw.Rollout, sw.DesiredWeight, sw.AdditionalDestinations))
	sh := load[rrpc.SetHeaderArgs](t, "SetHeaderArgs")
	ok("SetHeaderRoute", r.SetHeaderRoute(&sh.Rollout, &sh.SetHeaderRoute))
	sm := load[rrpc.SetMirrorArgs](t, "SetMirrorArgs")
	ok("SetMirrorRoute", r.SetMirrorRoute(&sm.Rollout, &sm.SetMirrorRoute))
	v, e := r.VerifyWeight(&sw.Rollout, sw.DesiredWeight, sw.AdditionalDestinations)
	ok("VerifyWeight", e)
	if v != types.Verified {
		t.Errorf("VerifyWeight = %v, want Verified", v)
	}
	rm := load[rrpc.RemoveManagedRoutesArgs](t, "RemoveManagedRoutesArgs")
	ok("RemoveManagedRoutes", r.RemoveManagedRoutes(&rm.Rollout))

	echoed(t, echo, map[string]string{
		"UpdateHash": "UpdateHashArgs", "SetWeight": "SetWeightAndVerifyWeightArgs", "VerifyWeight": "SetWeightAndVerifyWeightArgs",
		"SetHeaderRoute": "SetHeaderArgs", "SetMirrorRoute": "SetMirrorArgs", "RemoveManagedRoutes": "RemoveManagedRoutesArgs",
	})
}

// TestArgoClientDrivesNerveMetricProvider: Argo v1.10.0's RPC client calls all 7 methods of a
// nerve-served metric provider; every field arrives both ways.
func TestArgoClientDrivesNerveMetricProvider(t *testing.T) {
	echo := filepath.Join(t.TempDir(), "echo")
	p := dispense(t, nerveBins[testbin.GoodProvider], "metricprovider", "RpcMetricProviderPlugin",
		&trpc.RpcMetricProviderPlugin{}, "--echo="+echo).(trpc.MetricProviderPlugin)

	if e := p.InitPlugin(); e.HasError() {
		t.Errorf("InitPlugin: %s", e.ErrorString)
	}
	if typ := p.Type(); typ != "TestProvider" {
		t.Errorf("Type = %q", typ)
	}
	ra := load[trpc.RunArgs](t, "RunArgs")
	ms := p.Run(ra.AnalysisRun, ra.Metric)
	if ms.Phase != v1alpha1.AnalysisPhaseSuccessful || ms.Value != ra.Metric.Name || ms.Metadata["plugin"] != "test" || ms.FinishedAt == nil {
		t.Errorf("Run = %+v", ms)
	}
	tr := load[trpc.TerminateAndResumeArgs](t, "TerminateAndResumeArgs")
	wantMs, err := doc.Of(tr.Measurement)
	if err != nil {
		t.Fatal(err)
	}
	res := p.Resume(tr.AnalysisRun, tr.Metric, tr.Measurement)
	if got, _ := doc.Of(res); len(doc.Subset(wantMs, got)) > 0 {
		t.Errorf("Resume's measurement came back changed: %s", doc.Report(doc.Subset(wantMs, got)))
	}
	if res := p.Terminate(tr.AnalysisRun, tr.Metric, tr.Measurement); res.Phase != v1alpha1.AnalysisPhaseSuccessful || res.Value != tr.Measurement.Value {
		t.Errorf("Terminate = %+v", res)
	}
	gc := load[trpc.GarbageCollectArgs](t, "GarbageCollectArgs")
	if e := p.GarbageCollect(gc.AnalysisRun, gc.Metric, gc.Limit); e.HasError() {
		t.Errorf("GarbageCollect: %s", e.ErrorString)
	}
	gm := load[trpc.GetMetadataArgs](t, "GetMetadataArgs")
	md := p.GetMetadata(gm.Metric)
	keys := make([]string, 0, len(gm.Metric.Provider.Plugin))
	for k := range gm.Metric.Provider.Plugin {
		keys = append(keys, k)
	}
	if md["metric"] != gm.Metric.Name || len(strings.Split(md["plugins"], ",")) != len(keys) {
		t.Errorf("GetMetadata = %v", md)
	}

	echoed(t, echo, map[string]string{
		"Run": "RunArgs", "Resume": "TerminateAndResumeArgs", "Terminate": "TerminateAndResumeArgs",
		"GarbageCollect": "GarbageCollectArgs", "GetMetadata": "GetMetadataArgs",
	})
}
