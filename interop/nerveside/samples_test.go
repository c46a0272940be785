package nerveside

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/interop/internal/bins"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance"
)

// Config keys Argo's sample plugins read.
const (
	sampleMetricsName = "argoproj/sample-prometheus"
	sampleRouterName  = "argoproj/sample-nginx"
)

// kubeconfig returns $KUBECONFIG, else the local control plane's (.cluster/env), else "".
func kubeconfig() string {
	if k := os.Getenv("KUBECONFIG"); k != "" {
		return k
	}
	_, file, _, _ := runtime.Caller(0)
	f, err := os.Open(filepath.Join(filepath.Dir(file), "..", "..", ".cluster", "env"))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if k == "KUBECONFIG" {
			if v = strings.Trim(v, `"'`); exists(v) {
				return v
			}
		}
	}
	return ""
}

// TestArgoSampleMetricsPluginUnderNerveHost: the real metrics-plugin-sample binary from the
// argo-rollouts module, run by nerve's host: every call crosses the wire.
func TestArgoSampleMetricsPluginUnderNerveHost(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, plugins.KindMetricProvider, sampleMetricsName, built[bins.SampleMetrics])
	p, err := h.MetricProvider(ctx, sampleMetricsName)
	if err != nil {
		t.Fatal(err)
	}
	if typ, err := p.Type(ctx); err != nil || typ != "RPCPlugin" {
		t.Errorf("Type = %q, %v", typ, err)
	}
	// A Prometheus that does not exist (127.0.0.1:9): the sample reports an Error measurement.
	m := v1alpha1.Metric{Name: "up", SuccessCondition: "result[0] >= 0", Provider: v1alpha1.MetricProvider{
		Plugin: map[string]json.RawMessage{sampleMetricsName: json.RawMessage(`{"address":"http://127.0.0.1:9","query":"up"}`)}}}
	run := &v1alpha1.AnalysisRun{}
	run.Name, run.Namespace = "r", "default"
	ms, err := p.Run(ctx, run, m)
	if err != nil || ms.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(ms.Message, "127.0.0.1:9") {
		t.Errorf("Run = %+v, %v", ms, err)
	}
	if md, err := p.GetMetadata(ctx, m); err != nil {
		t.Errorf("GetMetadata = %v, %v", md, err)
	}
	if err := p.GarbageCollect(ctx, run, m, 10); err != nil {
		t.Error(err)
	}
}

// TestArgoSampleTrafficRouterUnderNerveHost: the real trafficrouter-plugin-sample binary under
// nerve's host. It needs a kubeconfig for InitPlugin: with the local control plane's it starts
// and answers; without one, InitPlugin's failure is reported (and retried on the next call).
func TestArgoSampleTrafficRouterUnderNerveHost(t *testing.T) {
	ctx := context.Background()
	kc := kubeconfig()
	if kc != "" {
		t.Setenv("KUBECONFIG", kc)
	}
	h := newHost(t, plugins.KindTrafficRouter, sampleRouterName, built[bins.SampleRouter])
	r, err := h.TrafficRouter(ctx, sampleRouterName)
	if kc == "" {
		t.Logf("no kubeconfig (KUBECONFIG or .cluster/env): expecting InitPlugin to fail: %v", err)
		if err == nil || !strings.Contains(err.Error(), "InitPlugin failed (retried on the next call)") {
			t.Fatalf("want the InitPlugin failure, got %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("with kubeconfig %s: %v", kc, err)
	}
	if typ, err := r.Type(ctx); err != nil || typ != "plugin-nginx" {
		t.Errorf("Type = %q, %v", typ, err)
	}
	ro := conformance.Rollout(conformance.Options{Name: sampleRouterName})
	if err := r.RemoveManagedRoutes(ctx, ro); err != nil {
		t.Errorf("RemoveManagedRoutes: %v", err)
	}
}

// TestArgoSamplesPassConformance: both real sample binaries pass nerve-conformance in wire
// mode, through the library and through the command (whose output is logged). The metrics
// sample gets its config key; the traffic-router sample runs under the default key, so its
// SetWeight stops at "could not unmarshal nginx config" (see TestArgoSampleRouterNeedsInit for
// its own key).
func TestArgoSamplesPassConformance(t *testing.T) {
	kc := kubeconfig()
	if kc != "" {
		t.Setenv("KUBECONFIG", kc)
	}
	for _, tc := range []struct{ bin, name string }{
		{built[bins.SampleMetrics], sampleMetricsName},
		{built[bins.SampleRouter], conformance.DefaultName},
	} {
		t.Run(filepath.Base(tc.bin), func(t *testing.T) {
			rep, err := conformance.Run(context.Background(), tc.bin, conformance.Options{Name: tc.name})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Passed() {
				t.Errorf("conformance failed:\n%s", text(rep))
			}
			out, err := exec.Command(built[bins.NerveConformer], "--name", tc.name, tc.bin).CombinedOutput()
			t.Logf("$ nerve-conformance --name %s %s\n%s", tc.name, filepath.Base(tc.bin), out)
			if err != nil {
				t.Errorf("nerve-conformance: %v", err)
			}
		})
	}
}

// TestArgoSampleRouterNeedsInit documents a finding: with its own config key, Argo's
// traffic-router sample dereferences its nil ingress client in SetWeight when InitPlugin was
// never called (or failed), crashing the process; nerve-conformance reports exactly that. With
// the local control plane's kubeconfig the pass after InitPlugin crosses the wire.
func TestArgoSampleRouterNeedsInit(t *testing.T) {
	kc := kubeconfig()
	if kc != "" {
		t.Setenv("KUBECONFIG", kc)
	}
	rep, err := conformance.Run(context.Background(), built[bins.SampleRouter], conformance.Options{Name: sampleRouterName})
	if err != nil {
		t.Fatal(err)
	}
	out := text(rep)
	t.Logf("kubeconfig=%q\n%s", kc, out)
	want := []string{"FAIL Plugin.SetWeight: without InitPlugin: plugin process crashed", "nil pointer dereference",
		"PASS Plugin.UpdateHash", "PASS Plugin.SetHeaderRoute", "PASS Plugin.RemoveManagedRoutes"}
	if kc != "" {
		want = append(want, "PASS Plugin.InitPlugin: after InitPlugin: ok")
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	if kc != "" && strings.Contains(out, "after InitPlugin: plugin process crashed") {
		t.Error("the sample crashed even after a successful InitPlugin")
	}
}

func text(rep *conformance.Report) string {
	var b strings.Builder
	_ = rep.Write(&b)
	return b.String()
}
