package argoside

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	mrpc "github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// webMetric is an Argo Metric whose provider.web-shaped config sits under
// provider.plugin["nerve/web"], as an Argo user registers nerve-web.
func webMetric(t *testing.T, url, jsonPath string) v1alpha1.Metric {
	t.Helper()
	cfg, err := json.Marshal(v1alpha1.WebMetric{URL: url, JSONPath: jsonPath, TimeoutSeconds: 5,
		Headers: []v1alpha1.WebMetricHeader{{Key: "X-Canary", Value: "lab"}}})
	if err != nil {
		t.Fatal(err)
	}
	return v1alpha1.Metric{Name: "lab-health", SuccessCondition: "result >= 0.95", FailureCondition: "result < 0.9",
		Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"nerve/web": cfg}}}
}

// TestArgoClientLoadsShippedWebPlugin: Argo's metric-provider RPC client takes real measurements
// through the shipped nerve-web binary against a 127.0.0.1 endpoint, with Argo's own v1alpha1
// types (config from Argo's WebMetric) over the gob wire.
func TestArgoClientLoadsShippedWebPlugin(t *testing.T) {
	bin := shippedPlugin(t, "nerve-web")
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("X-Canary") != "lab" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, `{"ratios":{"pass":0.99,"fail":0.42}}`)
	}))
	defer srv.Close()
	p := dispense(t, bin, "metricprovider", "RpcMetricProviderPlugin", &mrpc.RpcMetricProviderPlugin{}).(mrpc.MetricProviderPlugin)
	if e := p.InitPlugin(); e.HasError() {
		t.Fatalf("InitPlugin: %s", e.Error())
	}
	if typ := p.Type(); typ != "Web" {
		t.Fatalf("Type = %q, want Web", typ)
	}
	run := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "lab-canary-1", Namespace: "clinical"}}
	pass := webMetric(t, srv.URL, "{$.ratios.pass}")
	ms := p.Run(run, pass)
	if ms.Phase != v1alpha1.AnalysisPhaseSuccessful || ms.Value != "0.99" || ms.StartedAt == nil || ms.FinishedAt == nil {
		t.Fatalf("Run(pass) = %+v, want Successful 0.99 with start and finish times", ms)
	}
	if failed := p.Run(run, webMetric(t, srv.URL, "{$.ratios.fail}")); failed.Phase != v1alpha1.AnalysisPhaseFailed || failed.Value != "0.42" {
		t.Fatalf("Run(fail) = %+v, want Failed 0.42", failed)
	}
	if missing := p.Run(run, webMetric(t, srv.URL, "{$.ratios.none}")); missing.Phase != v1alpha1.AnalysisPhaseError ||
		!strings.Contains(missing.Message, "Could not find JSONPath in body") || transportFailure(missing.Message) {
		t.Fatalf("Run(no match) = %+v, want Argo's JSONPath Error", missing)
	}
	if n := hits.Load(); n != 3 {
		t.Fatalf("the endpoint answered %d requests, want 3", n)
	}
	if res := p.Resume(run, pass, ms); res.Phase != ms.Phase || res.Value != ms.Value {
		t.Fatalf("Resume = %+v, want the measurement unchanged", res)
	}
	if res := p.Terminate(run, pass, ms); res.Phase != ms.Phase || res.Value != ms.Value {
		t.Fatalf("Terminate = %+v, want the measurement unchanged", res)
	}
	if e := p.GarbageCollect(run, pass, 10); e.HasError() {
		t.Fatalf("GarbageCollect: %s", e.Error())
	}
}

// TestArgoClientLoadsShippedJobPlugin: the shipped nerve-job binary answers Argo's client with
// Argo's type name, and a Run without a cluster (KUBECONFIG names a missing file) comes back over
// the wire as an Error measurement, never a transport failure. Real Jobs: e2e/providers.
func TestArgoClientLoadsShippedJobPlugin(t *testing.T) {
	t.Setenv("KUBECONFIG", t.TempDir()+"/missing")
	bin := shippedPlugin(t, "nerve-job")
	p := dispense(t, bin, "metricprovider", "RpcMetricProviderPlugin", &mrpc.RpcMetricProviderPlugin{}).(mrpc.MetricProviderPlugin)
	if typ := p.Type(); typ != "Job" {
		t.Fatalf("Type = %q, want Job", typ)
	}
	cfg := json.RawMessage(`{"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}`)
	m := v1alpha1.Metric{Name: "smoke", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"nerve/job": cfg}}}
	run := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "lab-canary-1", Namespace: "clinical", UID: "6f1c2b8e-0d7a-4c55-9a1e-3b2f8d9c0a11"}}
	ms := p.Run(run, m)
	if ms.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(ms.Message, "KUBECONFIG or in-cluster") || transportFailure(ms.Message) {
		t.Fatalf("Run without a cluster = %+v, want an Error measurement naming the client config", ms)
	}
}
