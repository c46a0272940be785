package prometheus

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// fakeProm stands in for Prometheus' HTTP API in unit tests: it answers every query with body and
// records the last request's headers and query.
type fakeProm struct {
	srv  *httptest.Server
	mu   sync.Mutex
	body string
	code int
	hdr  http.Header
	qry  string
	path string
}

// The conditions of the table below (an ack-latency gate).
const (
	cSucc = "result[0] < 0.005"
	cFail = "result[0] >= 0.005"
)

func newFakeProm(t *testing.T, body string) *fakeProm {
	t.Helper()
	f := &fakeProm{body: body, code: http.StatusOK}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeProm) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	f.hdr, f.qry, f.path = r.Header.Clone(), r.Form.Get("query"), r.URL.Path
	body, code := f.body, f.code
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

func (f *fakeProm) set(code int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.code, f.body = code, body
}

func (f *fakeProm) lastHeader(k string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hdr.Get(k)
}

func vectorBody(values ...string) string {
	samples := make([]string, 0, len(values))
	for i, v := range values {
		samples = append(samples, fmt.Sprintf(`{"metric":{"i":"%d"},"value":[1700000000,"%s"]}`, i, v))
	}
	return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(samples, ",") + `]}}`
}

func pluginMetric(t *testing.T, cfg map[string]any, success, failure string) v1alpha1.Metric {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("marshal config: %v", err)
	}
	return v1alpha1.Metric{Name: "m", SuccessCondition: success, FailureCondition: failure,
		Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{DefaultName: raw}}}
}

func run(t *testing.T, p *Provider, m v1alpha1.Metric) v1alpha1.Measurement {
	t.Helper()
	meas, err := p.Run(t.Context(), &v1alpha1.AnalysisRun{}, m)
	if err != nil {
		t.Fatalf("Run returned an error: %v", err)
	}
	if meas.StartedAt == nil || meas.FinishedAt == nil {
		t.Fatalf("measurement lacks StartedAt/FinishedAt: %+v", meas)
	}
	return meas
}

func wantMeasurement(t *testing.T, m v1alpha1.Measurement, phase v1alpha1.AnalysisPhase, value string, msgParts ...string) {
	t.Helper()
	if m.Phase != phase || (value != "-" && m.Value != value) {
		t.Fatalf("measurement = %s value %q (%s); want %s value %q", m.Phase, m.Value, m.Message, phase, value)
	}
	for _, p := range msgParts {
		if !strings.Contains(m.Message, p) {
			t.Fatalf("message %q lacks %q", m.Message, p)
		}
	}
}

func TestRunResults(t *testing.T) {
	const q = `histogram_quantile(0.99, sum by (le)(rate(x_bucket[2m])))`
	tests := []struct {
		name             string
		body             string
		extra            map[string]any
		success, failure string
		phase            v1alpha1.AnalysisPhase
		value            string
		msg              []string
	}{
		{"success", vectorBody("0.0012"), nil, cSucc, cFail, v1alpha1.AnalysisPhaseSuccessful, "[0.0012]",
			[]string{`successCondition "result[0] < 0.005" is true`, `failureCondition "result[0] >= 0.005" is false`, "-> Successful", "query: " + q}},
		{"failure", vectorBody("0.02"), nil, cSucc, cFail, v1alpha1.AnalysisPhaseFailed, "[0.02]", []string{"-> Failed"}},
		{"success only, not met", vectorBody("0.02"), nil, cSucc, "", v1alpha1.AnalysisPhaseFailed, "[0.02]",
			[]string{"no failureCondition is set"}},
		{"inconclusive", vectorBody("0.004"), nil, "result[0] < 0.003", "result[0] > 0.005", v1alpha1.AnalysisPhaseInconclusive, "[0.004]",
			[]string{"neither condition is true"}},
		{"multi-series vector", vectorBody("1", "2.5"), nil, "len(result) == 2", "", v1alpha1.AnalysisPhaseSuccessful, "[1,2.5]", nil},
		{"scalar", `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"0.5"]}}`, nil, "result == 0.5", "", v1alpha1.AnalysisPhaseSuccessful, "0.5", nil},
		{"empty vector as Argo", vectorBody(), nil, cSucc, cFail, v1alpha1.AnalysisPhaseError, "[]",
			[]string{"metric result is nil or empty", "query: "}},
		{"empty vector guarded passes as Argo (with a hint)", vectorBody(), nil, "len(result) == 0 || result[0] < 0.005", "", v1alpha1.AnalysisPhaseSuccessful, "[]",
			[]string{"note: the result is empty"}},
		{"NaN as Argo", vectorBody("NaN"), nil, cSucc, cFail, v1alpha1.AnalysisPhaseInconclusive, "[NaN]", []string{"note: the result contains NaN"}},
		{"NaN failure-only passes as Argo", vectorBody("NaN"), nil, "", cFail, v1alpha1.AnalysisPhaseSuccessful, "[NaN]", nil},
		{"emptyResult inconclusive", vectorBody(), map[string]any{"emptyResult": "inconclusive"}, "len(result) == 0 || result[0] < 0.005", "", v1alpha1.AnalysisPhaseInconclusive, "[]",
			[]string{`emptyResult policy "inconclusive"`, "conditions not evaluated"}},
		{"emptyResult failed", vectorBody(), map[string]any{"emptyResult": "failed"}, cSucc, "", v1alpha1.AnalysisPhaseFailed, "[]", nil},
		{"emptyResult error", vectorBody(), map[string]any{"emptyResult": "error"}, cSucc, "", v1alpha1.AnalysisPhaseError, "[]", nil},
		{"nanResult inconclusive", vectorBody("NaN"), map[string]any{"nanResult": "inconclusive"}, "", cFail, v1alpha1.AnalysisPhaseInconclusive, "[NaN]",
			[]string{`nanResult policy "inconclusive"`}},
		{"nanResult failed", `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"NaN"]}}`, map[string]any{"nanResult": "failed"}, "", cFail, v1alpha1.AnalysisPhaseFailed, "NaN", nil},
		{"nanResult error, one NaN among series", vectorBody("0.001", "NaN"), map[string]any{"nanResult": "error"}, cSucc, "", v1alpha1.AnalysisPhaseError, "[0.001,NaN]", nil},
		{"policy does not touch good data", vectorBody("0.001"), map[string]any{"emptyResult": "failed", "nanResult": "failed"}, cSucc, "", v1alpha1.AnalysisPhaseSuccessful, "[0.001]", nil},
		{"matrix from instant query", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]}}`, nil, cSucc, "", v1alpha1.AnalysisPhaseError, "",
			[]string{"Prometheus metric type not supported", "range vector (matrix)"}},
		{"string result", `{"status":"success","data":{"resultType":"string","result":[1,"x"]}}`, nil, cSucc, "", v1alpha1.AnalysisPhaseError, "",
			[]string{"returned an unsupported response", `unexpected value type "string"`}},
		{"bad condition", vectorBody("1"), nil, "result[0] <", "", v1alpha1.AnalysisPhaseError, "[1]", []string{`could not evaluate successCondition "result[0] <"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProm(t, tt.body)
			cfg := map[string]any{"address": f.srv.URL, "query": q}
			for k, v := range tt.extra {
				cfg[k] = v
			}
			m := run(t, New(Options{}), pluginMetric(t, cfg, tt.success, tt.failure))
			wantMeasurement(t, m, tt.phase, tt.value, tt.msg...)
			if f.qry != q {
				t.Fatalf("Prometheus got query %q, want %q", f.qry, q)
			}
		})
	}
}

func TestRunMessageFoldsMultiLineQuery(t *testing.T) {
	f := newFakeProm(t, vectorBody("0.001"))
	q := "histogram_quantile(0.99,\n  sum(rate(mllp_ack_latency_seconds_bucket{service=\"mllp-listener\"}[5m]))\n  by (le))\n"
	m := pluginMetric(t, map[string]any{"address": f.srv.URL, "query": q}, "result[0] < 0.005", "")
	meas := run(t, New(Options{}), m)
	wantMeasurement(t, meas, v1alpha1.AnalysisPhaseSuccessful, "[0.001]",
		`query: histogram_quantile(0.99, sum(rate(mllp_ack_latency_seconds_bucket{service="mllp-listener"}[5m])) by (le))`)
	if f.qry != q {
		t.Fatalf("Prometheus got %q, want the query unchanged %q", f.qry, q)
	}
	md, err := New(Options{}).GetMetadata(t.Context(), m)
	if err != nil || md[ResolvedPrometheusQuery] != q {
		t.Fatalf("GetMetadata = %q, %v; want the query unchanged", md, err)
	}
}

func TestRunRangeQueryFlattensMatrix(t *testing.T) {
	f := newFakeProm(t, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[1,"1"],[2,"2"]]},{"metric":{"a":"2"},"values":[[1,"3"]]}]}}`)
	cfg := map[string]any{"address": f.srv.URL, "query": "x", "rangeQuery": map[string]any{"start": "now() - duration('5m')", "end": "now()", "step": "1m"}}
	m := run(t, New(Options{}), pluginMetric(t, cfg, "len(result) == 3 && result[2] == 3", ""))
	wantMeasurement(t, m, v1alpha1.AnalysisPhaseSuccessful, "[1,2,3]")
	if f.path != "/api/v1/query_range" {
		t.Fatalf("path = %s, want /api/v1/query_range", f.path)
	}
}

func TestRunBuiltInProviderBlock(t *testing.T) {
	f := newFakeProm(t, vectorBody("0.001"))
	timeout := int64(5)
	m := v1alpha1.Metric{Name: "lat", SuccessCondition: cSucc, Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{
		Address: f.srv.URL, Query: "up", Timeout: &timeout, Headers: []v1alpha1.WebMetricHeader{{Key: "X-Scope-OrgID", Value: "t1"}}}}}
	meas := run(t, New(Options{}), m)
	wantMeasurement(t, meas, v1alpha1.AnalysisPhaseSuccessful, "[0.001]")
	if got := f.lastHeader("X-Scope-OrgID"); got != "t1" {
		t.Fatalf("header X-Scope-OrgID = %q", got)
	}
	md, err := New(Options{}).GetMetadata(t.Context(), m)
	if err != nil || md[ResolvedPrometheusQuery] != "up" {
		t.Fatalf("GetMetadata = %v, %v", md, err)
	}
}

func TestRunPluginNameAndAddressEnv(t *testing.T) {
	f := newFakeProm(t, vectorBody("1"))
	raw := json.RawMessage(`{"query":"up"}`)
	m := v1alpha1.Metric{Name: "m", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"acme/prom": raw}}}
	env := Env{LookupEnv: func(k string) (string, bool) {
		if k == EnvAddress {
			return f.srv.URL, true
		}
		return "", false
	}}
	meas := run(t, New(Options{Name: "acme/prom", Env: env}), m)
	wantMeasurement(t, meas, v1alpha1.AnalysisPhaseSuccessful, "[1]", "no conditions set")
	// The default name does not see the acme/prom block.
	meas = run(t, New(Options{Env: env}), m)
	wantMeasurement(t, meas, v1alpha1.AnalysisPhaseError, "", `neither provider.plugin["nerve/prometheus"] nor provider.prometheus`)
}

func TestRunAuthHeaders(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	passFile := filepath.Join(dir, "pass")
	if err := os.WriteFile(tokenFile, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(passFile, []byte("pa55\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := Env{LookupEnv: func(k string) (string, bool) {
		vals := map[string]string{"PROM_TOKEN": "env-token", "PROM_USER": "bob", "PROM_PASS": "envpass", "TENANT": "t9"}
		v, ok := vals[k]
		return v, ok
	}}
	tests := []struct {
		name, header, want string
		auth               map[string]any
		headers            []map[string]any
	}{
		{"bearer file", "Authorization", "Bearer s3cret-token", map[string]any{"bearer": map[string]any{"tokenFile": tokenFile}}, nil},
		{"bearer env", "Authorization", "Bearer env-token", map[string]any{"bearer": map[string]any{"tokenEnv": "PROM_TOKEN"}}, nil},
		{"bearer inline", "Authorization", "Bearer t", map[string]any{"bearer": map[string]any{"token": "t"}}, nil},
		{"basic inline (Argo)", "Authorization", "Basic YWxpY2U6cHc=", map[string]any{"basicAuth": map[string]any{"username": "alice", "password": "pw"}}, nil},
		{"basic password file", "Authorization", "Basic YWxpY2U6cGE1NQ==", map[string]any{"basicAuth": map[string]any{"username": "alice", "passwordFile": passFile}}, nil},
		{"basic env", "Authorization", "Basic Ym9iOmVudnBhc3M=", map[string]any{"basicAuth": map[string]any{"usernameEnv": "PROM_USER", "passwordEnv": "PROM_PASS"}}, nil},
		{"header value env", "X-Scope-OrgID", "t9", nil, []map[string]any{{"key": "X-Scope-OrgID", "valueEnv": "TENANT"}}},
		{"header value file", "X-Token", "s3cret-token", nil, []map[string]any{{"key": "X-Token", "valueFile": tokenFile}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProm(t, vectorBody("1"))
			cfg := map[string]any{"address": f.srv.URL, "query": "up"}
			if tt.auth != nil {
				cfg["authentication"] = tt.auth
			}
			if tt.headers != nil {
				cfg["headers"] = tt.headers
			}
			meas := run(t, New(Options{Env: env}), pluginMetric(t, cfg, "", ""))
			wantMeasurement(t, meas, v1alpha1.AnalysisPhaseSuccessful, "[1]")
			if got := f.lastHeader(tt.header); got != tt.want {
				t.Fatalf("%s = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}

func TestRunOAuth2ClientCredentials(t *testing.T) {
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		user, pass, _ := r.BasicAuth()
		if r.Form.Get("grant_type") != "client_credentials" || user != "cid" || pass != "csecret" {
			http.Error(w, "bad client", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"oauth-tok","token_type":"Bearer","expires_in":3600}`))
	}))
	t.Cleanup(tokenSrv.Close)
	f := newFakeProm(t, vectorBody("1"))
	env := Env{LookupEnv: func(k string) (string, bool) { return "csecret", k == "OAUTH_SECRET" }}
	cfg := map[string]any{"address": f.srv.URL, "query": "up", "authentication": map[string]any{
		"oauth2": map[string]any{"tokenUrl": tokenSrv.URL, "clientId": "cid", "clientSecretEnv": "OAUTH_SECRET", "scopes": []string{"read"}}}}
	meas := run(t, New(Options{Env: env}), pluginMetric(t, cfg, "", ""))
	wantMeasurement(t, meas, v1alpha1.AnalysisPhaseSuccessful, "[1]")
	if got := f.lastHeader("Authorization"); got != "Bearer oauth-tok" {
		t.Fatalf("Authorization = %q", got)
	}
}

func TestRunConfigErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		want string
	}{
		{"empty query", `{"address":"http://127.0.0.1:9"}`, "query: must not be empty"},
		{"negative timeout", `{"query":"up","timeout":-1}`, "timeout: -1 must not be negative"},
		{"bad address", `{"query":"up","address":"127.0.0.1:9090"}`, `address: "127.0.0.1:9090" is not a URL`},
		{"unknown field", `{"query":"up","emptyResults":"failed"}`, `unknown field "emptyResults"`},
		{"bad policy", `{"query":"up","nanResult":"pass"}`, `nanResult: "pass" is not one of`},
		{"two auths", `{"query":"up","authentication":{"bearer":{"token":"a"},"basicAuth":{"username":"u","password":"p"}}}`, "set only one of basicAuth, oauth2, bearer"},
		{"two token sources", `{"query":"up","authentication":{"bearer":{"token":"a","tokenEnv":"X"}}}`, "authentication.bearer: set only one of"},
		{"sigv4", `{"query":"up","authentication":{"sigv4":{"region":"eu-west-1"}}}`, "authentication.sigv4"},
		{"oauth2 without secret", `{"query":"up","authentication":{"oauth2":{"tokenUrl":"http://127.0.0.1:1/t","clientId":"c"}}}`, "authentication.oauth2: set exactly one of clientSecret"},
		{"range without step", `{"query":"up","rangeQuery":{"start":"now()","end":"now()"}}`, "rangeQuery.step"},
		{"not json", `{"query":`, "invalid config"},
		{"missing env address", `{"query":"up"}`, "address: not configured (set address or ARGO_ROLLOUTS_PROMETHEUS_ADDRESS)"},
		{"missing token env", `{"query":"up","address":"http://127.0.0.1:9","authentication":{"bearer":{"tokenEnv":"NOPE_NOT_SET"}}}`, "authentication.bearer.tokenEnv: environment variable NOPE_NOT_SET is not set"},
		{"missing password file", `{"query":"up","address":"http://127.0.0.1:9","authentication":{"basicAuth":{"username":"u","passwordFile":"/nonexistent/p"}}}`, "authentication.basicAuth.passwordFile"},
		{"range start not a time", `{"query":"up","address":"http://127.0.0.1:9","rangeQuery":{"start":"1","end":"now()","step":"1m"}}`, "rangeQuery.start: expected time.Time, but got int"},
		{"header without key", `{"query":"up","headers":[{"value":"v"}]}`, "headers[0].key: must not be empty"},
		{"header with two sources", `{"query":"up","headers":[{"key":"k","value":"v","valueEnv":"E"}]}`, "headers[0]: set only one of value, valueFile, valueEnv"},
		{"oauth2 token url", `{"query":"up","authentication":{"oauth2":{"tokenUrl":"nope","clientId":"c","clientSecret":"s"}}}`, `authentication.oauth2.tokenUrl: "nope" is not a URL`},
		{"null config", `null`, "config is empty"},
		{"basic without password", `{"query":"up","address":"http://127.0.0.1:9","authentication":{"basicAuth":{"username":"u"}}}`, "authentication.basicAuth.password: missing"},
	}
	env := Env{LookupEnv: func(string) (string, bool) { return "", false }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := v1alpha1.Metric{Name: "m", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{DefaultName: json.RawMessage(tt.cfg)}}}
			meas := run(t, New(Options{Env: env}), m)
			wantMeasurement(t, meas, v1alpha1.AnalysisPhaseError, "", tt.want)
		})
	}
}

func TestRunUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	_ = l.Close()
	meas := run(t, New(Options{}), pluginMetric(t, map[string]any{"address": addr, "query": "up"}, cSucc, ""))
	wantMeasurement(t, meas, v1alpha1.AnalysisPhaseError, "", "Prometheus at "+addr+" is unreachable", "connection refused", "query: up")
}

func TestRunTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	// Accept and hold connections without answering.
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	addr := "http://" + l.Addr().String()
	meas := run(t, New(Options{}), pluginMetric(t, map[string]any{"address": addr, "query": "up", "timeout": 1}, cSucc, ""))
	wantMeasurement(t, meas, v1alpha1.AnalysisPhaseError, "", "Prometheus at "+addr+" did not answer within the 1s timeout (timeout: 1)")
}

func TestRunAPIErrorAndWarnings(t *testing.T) {
	f := newFakeProm(t, `{"status":"error","errorType":"bad_data","error":"parse error at char 3"}`)
	f.set(http.StatusBadRequest, `{"status":"error","errorType":"bad_data","error":"parse error at char 3"}`)
	meas := run(t, New(Options{}), pluginMetric(t, map[string]any{"address": f.srv.URL, "query": "up{"}, cSucc, ""))
	wantMeasurement(t, meas, v1alpha1.AnalysisPhaseError, "", "rejected the query", "parse error at char 3")

	f.set(http.StatusOK, `{"status":"success","warnings":["w1","w2"],"data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]}}`)
	meas = run(t, New(Options{}), pluginMetric(t, map[string]any{"address": f.srv.URL, "query": "up"}, "", ""))
	wantMeasurement(t, meas, v1alpha1.AnalysisPhaseSuccessful, "[1]")
	if got := meas.Metadata[MetadataWarnings]; got != `"w1", "w2"` {
		t.Fatalf("warnings metadata = %q", got)
	}
}

func TestLifecycleMethods(t *testing.T) {
	ctx := context.Background()
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := New(Options{Now: func() time.Time { return fixed }})
	if err := p.InitPlugin(ctx); err != nil {
		t.Fatal(err)
	}
	if typ, err := p.Type(ctx); err != nil || typ != ProviderType {
		t.Fatalf("Type = %q, %v", typ, err)
	}
	if err := p.GarbageCollect(ctx, &v1alpha1.AnalysisRun{}, v1alpha1.Metric{}, 10); err != nil {
		t.Fatalf("GarbageCollect: %v", err)
	}
	done := metav1.NewTime(fixed.Add(-time.Minute))
	finished := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseFailed, Value: "[1]", FinishedAt: &done}
	for name, f := range map[string]func(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, v1alpha1.Measurement) (v1alpha1.Measurement, error){
		"Resume": p.Resume, "Terminate": p.Terminate,
	} {
		got, err := f(ctx, &v1alpha1.AnalysisRun{}, v1alpha1.Metric{}, finished)
		if err != nil || got.Phase != finished.Phase || got.Value != finished.Value || !got.FinishedAt.Equal(&done) {
			t.Fatalf("%s changed a finished measurement: %+v, %v", name, got, err)
		}
	}
	got, _ := p.Terminate(ctx, &v1alpha1.AnalysisRun{}, v1alpha1.Metric{}, v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning})
	if got.Phase != v1alpha1.AnalysisPhaseInconclusive || got.FinishedAt == nil || got.Message != "Metric Terminated" {
		t.Fatalf("Terminate(in flight) = %+v", got)
	}
	if _, err := p.GetMetadata(ctx, v1alpha1.Metric{Name: "x"}); err == nil {
		t.Fatal("GetMetadata without config: want an error")
	}
}

func TestRunConcurrent(t *testing.T) {
	f := newFakeProm(t, vectorBody("0.001"))
	p := New(Options{})
	m := pluginMetric(t, map[string]any{"address": f.srv.URL, "query": "up"}, cSucc, cFail)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			meas, err := p.Run(t.Context(), nil, m)
			if err != nil || meas.Phase != v1alpha1.AnalysisPhaseSuccessful {
				t.Errorf("concurrent Run = %s, %v (%s)", meas.Phase, err, meas.Message)
			}
		})
	}
	wg.Wait()
}
