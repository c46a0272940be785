package argoside

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mrpc "github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	rrpc "github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// These tests load the REAL shipped plugin binaries ($NERVE_BIN/plugins/*, built by `make build`;
// `make interop-test` sets NERVE_BIN) with Argo v1.10.0's own go-plugin handshake and RPC client
// types, and call every method with Argo's v1alpha1 types.

// shippedPlugin returns $NERVE_BIN/plugins/<name>; it fails (never skips) when it is missing.
func shippedPlugin(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("NERVE_BIN")
	if dir == "" {
		t.Fatalf("NERVE_BIN is not set: these tests load the shipped plugin binaries; run `make interop-test` "+
			"(it runs `make build` and sets NERVE_BIN=<repo>/bin), or `make build` then NERVE_BIN=<repo>/bin go test ./argoside/... (wanted plugins/%s)", name)
	}
	p := filepath.Join(dir, "plugins", name)
	if !fileExists(p) {
		t.Fatalf("%s does not exist: run `make build` first (NERVE_BIN=%s)", p, dir)
	}
	return p
}

// transportFailure reports whether an error text is a wire failure (the call did not reach the
// plugin's implementation or its answer did not come back) rather than the plugin's own error.
func transportFailure(text string) bool {
	for _, s := range []string{"rpc call error", "unexpected EOF", "gob", "connection is shut down"} {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// promValue is the vector sample the fake Prometheus answers for a query.
func promValue(query string) (string, bool) {
	switch query {
	case "passing_ratio":
		return "0.99", true
	case "failing_ratio":
		return "0.42", true
	}
	return "", false
}

// fakePrometheus answers /api/v1/query (GET or POST form) with a one-sample vector; hits counts
// the queries it answered.
func fakePrometheus(t *testing.T, hits *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/api/v1/query" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"status":"error","errorType":"not_found","error":"no such endpoint"}`)
			return
		}
		q := r.FormValue("query")
		v, ok := promValue(q)
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"unknown query %q"}`, q)
			return
		}
		hits.Add(1)
		_, _ = fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"lab"},"value":[%d,%q]}]}}`,
			time.Now().Unix(), v)
	}))
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server is not on 127.0.0.1: %s", srv.URL)
	}
	return srv
}

// promMetric is an Argo Metric whose config sits under provider.plugin["nerve/prometheus"].
func promMetric(t *testing.T, name, address, query string) v1alpha1.Metric {
	t.Helper()
	cfg, err := json.Marshal(map[string]string{"address": address, "query": query})
	if err != nil {
		t.Fatal(err)
	}
	return v1alpha1.Metric{Name: name, SuccessCondition: "result[0] >= 0.95",
		Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"nerve/prometheus": cfg}}}
}

// TestArgoClientLoadsShippedPrometheusPlugin: Argo's metric-provider RPC client takes real
// measurements through the shipped nerve-prometheus binary against a 127.0.0.1 Prometheus API.
func TestArgoClientLoadsShippedPrometheusPlugin(t *testing.T) {
	bin := shippedPlugin(t, "nerve-prometheus")
	var hits atomic.Int64
	prom := fakePrometheus(t, &hits)
	p := dispense(t, bin, "metricprovider", "RpcMetricProviderPlugin", &mrpc.RpcMetricProviderPlugin{}).(mrpc.MetricProviderPlugin)

	if e := p.InitPlugin(); e.HasError() {
		t.Fatalf("InitPlugin: %s", e.Error())
	}
	if typ := p.Type(); typ != "Prometheus" {
		t.Fatalf("Type = %q, want Prometheus", typ)
	}
	run := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "lab-canary-1", Namespace: "clinical"}}

	pass := promMetric(t, "success-ratio", prom.URL, "passing_ratio")
	ms := p.Run(run, pass)
	if ms.Phase != v1alpha1.AnalysisPhaseSuccessful || ms.Value != "[0.99]" || ms.FinishedAt == nil || ms.StartedAt == nil {
		t.Fatalf("Run(passing) = %+v, want Successful [0.99] with start and finish times", ms)
	}
	fail := promMetric(t, "success-ratio", prom.URL, "failing_ratio")
	failed := p.Run(run, fail)
	if failed.Phase != v1alpha1.AnalysisPhaseFailed || failed.Value != "[0.42]" || failed.FinishedAt == nil {
		t.Fatalf("Run(failing) = %+v, want Failed [0.42]", failed)
	}
	if n := hits.Load(); n != 2 {
		t.Fatalf("the fake Prometheus answered %d queries, want 2", n)
	}

	if md := p.GetMetadata(pass); md["ResolvedPrometheusQuery"] != "passing_ratio" {
		t.Fatalf("GetMetadata = %v, want ResolvedPrometheusQuery=passing_ratio", md)
	}
	if res := p.Resume(run, pass, ms); res.Phase != ms.Phase || res.Value != ms.Value || res.FinishedAt == nil || !res.FinishedAt.Equal(ms.FinishedAt) {
		t.Fatalf("Resume = %+v, want the measurement back unchanged (%+v)", res, ms)
	}
	if res := p.Terminate(run, fail, failed); res.Phase != v1alpha1.AnalysisPhaseFailed || res.Value != failed.Value {
		t.Fatalf("Terminate of a finished measurement = %+v, want it unchanged (%+v)", res, failed)
	}
	if e := p.GarbageCollect(run, pass, 10); e.HasError() {
		t.Fatalf("GarbageCollect: %s", e.Error())
	}

	bad := promMetric(t, "success-ratio", prom.URL, "")
	if res := p.Run(run, bad); res.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(res.Message, "query") || transportFailure(res.Message) {
		t.Fatalf("Run with an empty query = %+v, want an Error measurement naming the query field", res)
	}
}

// routerCase is one shipped traffic-router binary and the Rollout config it reads.
type routerCase struct {
	bin, typ, key, config string
	// route is the route name in config; the plugin's errors name it once it reads the config.
	route string
}

func routerCases() []routerCase {
	return []routerCase{
		{bin: "nerve-gatewayapi", typ: "GatewayAPI", key: "nerve/gatewayAPI", config: `{"httpRoute":"lab-web-route"}`, route: "lab-web-route"},
		{bin: "nerve-mllp", typ: "MLLP", key: "nerve/mllp", config: `{"route":"lab-mllp-route"}`, route: "lab-mllp-route"},
	}
}

// routerRollout is an Argo Rollout carrying config under trafficRouting.plugins[key].
func routerRollout(key, config string) *v1alpha1.Rollout {
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "lab-results", Namespace: "clinical"}}
	ro.Spec.Strategy.Canary = &v1alpha1.CanaryStrategy{StableService: "lab-stable", CanaryService: "lab-canary",
		TrafficRouting: &v1alpha1.RolloutTrafficRouting{
			Plugins:       map[string]json.RawMessage{key: json.RawMessage(config)},
			ManagedRoutes: []v1alpha1.MangedRoutes{{Name: "lab1"}, {Name: "shadow"}},
		}}
	return ro
}

// routerErrors calls every method of Argo's traffic-router client; it returns each method's
// error text ("" when it succeeded). Type must answer the plugin's type.
func routerErrors(t *testing.T, r rrpc.TrafficRouterPlugin, rc routerCase, ro *v1alpha1.Rollout) map[string]string {
	t.Helper()
	if typ := r.Type(); typ != rc.typ {
		t.Fatalf("Type = %q, want %q", typ, rc.typ)
	}
	pct := int32(10)
	verified, verr := r.VerifyWeight(ro, 25, nil)
	if verr.HasError() && verified == types.Verified {
		t.Errorf("VerifyWeight answered Verified with an error: %s", verr.Error())
	}
	return map[string]string{
		"UpdateHash": r.UpdateHash(ro, "c0ffee", "5ab1e", nil).ErrorString,
		"SetWeight":  r.SetWeight(ro, 25, []v1alpha1.WeightDestination{{ServiceName: "lab-preview", Weight: 5}}).ErrorString,
		"SetHeaderRoute": r.SetHeaderRoute(ro, &v1alpha1.SetHeaderRoute{Name: "lab1", Match: []v1alpha1.HeaderRoutingMatch{
			{HeaderName: "sending-facility", HeaderValue: &v1alpha1.StringMatch{Exact: "LAB1"}}}}).ErrorString,
		"SetMirrorRoute":      r.SetMirrorRoute(ro, &v1alpha1.SetMirrorRoute{Name: "shadow", Percentage: &pct, Match: []v1alpha1.RouteMatch{{}}}).ErrorString,
		"VerifyWeight":        verr.ErrorString,
		"RemoveManagedRoutes": r.RemoveManagedRoutes(ro).ErrorString,
	}
}

// clusterCalls are the methods that need the cluster (UpdateHash may be a no-op).
func clusterCalls() []string {
	return []string{"SetWeight", "SetHeaderRoute", "SetMirrorRoute", "VerifyWeight", "RemoveManagedRoutes"}
}

// withoutCluster makes the plugin children see no Kubernetes config at all: no KUBECONFIG, an
// empty HOME (no ~/.kube/config), not in a cluster. go-plugin passes the test's environment on.
func withoutCluster(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	t.Setenv("KUBERNETES_MASTER", "")
}

// TestArgoClientLoadsShippedRoutersWithoutCluster: with no Kubernetes config at all, the shipped
// nerve-gatewayapi and nerve-mllp binaries answer every call of Argo's RPC client with clean plugin
// errors (never a crash or a transport/gob failure).
func TestArgoClientLoadsShippedRoutersWithoutCluster(t *testing.T) {
	for _, rc := range routerCases() {
		t.Run(rc.bin, func(t *testing.T) {
			withoutCluster(t)
			bin := shippedPlugin(t, rc.bin)
			r := dispense(t, bin, "trafficrouter", "RpcTrafficRouterPlugin", &rrpc.RpcTrafficRouterPlugin{}).(rrpc.TrafficRouterPlugin)

			if e := r.InitPlugin(); e.HasError() && transportFailure(e.Error()) {
				t.Fatalf("InitPlugin: transport failure: %s", e.Error())
			}
			errs := routerErrors(t, r, rc, routerRollout(rc.key, rc.config))
			if transportFailure(errs["UpdateHash"]) {
				t.Errorf("UpdateHash: transport failure: %s", errs["UpdateHash"])
			}
			for _, m := range clusterCalls() {
				text := errs[m]
				switch {
				case text == "":
					t.Errorf("%s succeeded without any cluster", m)
				case transportFailure(text):
					t.Errorf("%s: transport failure: %s", m, text)
				case !strings.Contains(text, "KUBECONFIG or in-cluster"):
					t.Errorf("%s: %q does not say the Kubernetes config is missing", m, text)
				default:
					t.Logf("%s: %s", m, text)
				}
			}
			// The plugin is still alive and answering after all of that.
			if typ := r.Type(); typ != rc.typ {
				t.Fatalf("Type after the calls = %q", typ)
			}
		})
	}
}

// TestArgoClientShippedRoutersReadArgoConfig: the Rollout's plugin config, sent by Argo's client,
// is decoded inside the shipped binaries: a config without a route is refused by name, and with
// a 127.0.0.1 API server that has no routes every call names the configured route.
func TestArgoClientShippedRoutersReadArgoConfig(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"not found","reason":"NotFound","code":404}`)
	}))
	t.Cleanup(api.Close)
	if !strings.HasPrefix(api.URL, "http://127.0.0.1:") {
		t.Fatalf("test server is not on 127.0.0.1: %s", api.URL)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	kc := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters: [{name: f, cluster: {server: %q}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: f, user: u, namespace: clinical}}]\ncurrent-context: c\n", api.URL)
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, rc := range routerCases() {
		t.Run(rc.bin, func(t *testing.T) {
			withoutCluster(t)
			t.Setenv("KUBECONFIG", kubeconfig)
			bin := shippedPlugin(t, rc.bin)
			r := dispense(t, bin, "trafficrouter", "RpcTrafficRouterPlugin", &rrpc.RpcTrafficRouterPlugin{}).(rrpc.TrafficRouterPlugin)
			if e := r.InitPlugin(); e.HasError() {
				t.Fatalf("InitPlugin with a kubeconfig: %s", e.Error())
			}

			errs := routerErrors(t, r, rc, routerRollout(rc.key, rc.config))
			for _, m := range clusterCalls() {
				// Each names what the config (route) or the Rollout (canary Service) points at.
				text := errs[m]
				t.Logf("%s: %s", m, text)
				named := strings.Contains(text, rc.route) || strings.Contains(text, "clinical/lab-canary")
				if transportFailure(text) || !named || !strings.Contains(text, "not found") {
					t.Errorf("%s: %q, want a clean error saying route %s (or the canary Service) was not found", m, text, rc.route)
				}
			}

			if e := r.SetWeight(routerRollout(rc.key, `{}`), 25, nil); !e.HasError() || transportFailure(e.Error()) ||
				!strings.Contains(strings.ToLower(e.Error()), "route") {
				t.Errorf("SetWeight with an empty config: %q, want a clean error asking for a route", e.Error())
			}
			if e := r.SetWeight(routerRollout("other/plugin", rc.config), 25, nil); !e.HasError() || transportFailure(e.Error()) ||
				!strings.Contains(e.Error(), rc.key) {
				t.Errorf("SetWeight without plugins[%q]: %q, want a clean error naming the key", rc.key, e.Error())
			}
		})
	}
}
