package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// server is an httptest endpoint that records the last request and answers with a set status
// and body.
type server struct {
	*httptest.Server
	mu      sync.Mutex
	code    int
	body    string
	delay   time.Duration
	method  string
	header  http.Header
	reqBody string
}

func newServer(t *testing.T, code int, body string) *server {
	t.Helper()
	s := &server{code: code, body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.method, s.header, s.reqBody = r.Method, r.Header.Clone(), string(b)
		code, body, delay := s.code, s.body, s.delay
		s.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func metric(t *testing.T, cfg map[string]any, success, failure string) v1alpha1.Metric {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v1alpha1.Metric{Name: "web", SuccessCondition: success, FailureCondition: failure,
		Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{DefaultName: raw}}}
}

func run(t *testing.T, m v1alpha1.Metric) v1alpha1.Measurement {
	t.Helper()
	meas, err := New(Options{}).Run(t.Context(), &v1alpha1.AnalysisRun{}, m)
	if err != nil {
		t.Fatalf("Run returned an error: %v", err)
	}
	if meas.StartedAt == nil || meas.FinishedAt == nil {
		t.Fatalf("measurement not finished: %+v", meas)
	}
	return meas
}

func TestResultMapping(t *testing.T) {
	tests := []struct {
		name             string
		code             int
		body             string
		jsonPath         string
		success, failure string
		phase            v1alpha1.AnalysisPhase
		value            string
		msg              string
	}{
		{"success", 200, `{"data":{"ok":true,"rate":0.99}}`, "{$.data.rate}", "result > 0.95", "result < 0.9", v1alpha1.AnalysisPhaseSuccessful, "0.99", `successCondition "result > 0.95" is true`},
		{"failure", 200, `{"data":{"rate":0.5}}`, "{$.data.rate}", "result > 0.95", "result < 0.9", v1alpha1.AnalysisPhaseFailed, "0.5", "-> Failed"},
		{"inconclusive", 200, `{"data":{"rate":0.92}}`, "{$.data.rate}", "result > 0.95", "result < 0.9", v1alpha1.AnalysisPhaseInconclusive, "0.92", "-> Inconclusive"},
		{"success only, not met", 200, `{"ok":false}`, "{$.ok}", "result == true", "", v1alpha1.AnalysisPhaseFailed, "false", "-> Failed"},
		{"no conditions", 200, `{"x":1}`, "", "", "", v1alpha1.AnalysisPhaseSuccessful, `{"x":1}`, "no conditions set"},
		{"whole document by default", 200, `{"status":"green"}`, "", `result.status == "green"`, "", v1alpha1.AnalysisPhaseSuccessful, `{"status":"green"}`, ""},
		{"string value", 200, `{"status":"green"}`, "{$.status}", `result == "green"`, "", v1alpha1.AnalysisPhaseSuccessful, `"green"`, ""},
		{"array element", 200, `{"items":[{"v":3},{"v":4}]}`, "{$.items[1].v}", "asInt(result) == 4", "", v1alpha1.AnalysisPhaseSuccessful, "4", ""},
		{"filter picks the first match", 200, `{"items":[{"n":"a","v":1},{"n":"b","v":2}]}`, `{$.items[?(@.n=="b")].v}`, "result == 2", "", v1alpha1.AnalysisPhaseSuccessful, "2", ""},
		{"non-JSON body is Successful as in Argo", 200, "all good", "{$.x}", "result == 1", "", v1alpha1.AnalysisPhaseSuccessful, "all good", "not JSON"},
		{"missing key", 200, `{"a":1}`, "{$.b}", "result == 1", "", v1alpha1.AnalysisPhaseError, "", "Could not find JSONPath in body: b is not found"},
		{"empty match", 200, `{"items":[]}`, "{$.items[*]}", "result == 1", "", v1alpha1.AnalysisPhaseError, "", "result of web metric produced no value"},
		{"evaluation error", 200, `{"a":"x"}`, "{$.a}", "result > 1", "", v1alpha1.AnalysisPhaseError, `"x"`, `could not evaluate successCondition "result > 1"`},
		{"null result", 200, `{"a":null}`, "{$.a}", "result > 1", "", v1alpha1.AnalysisPhaseError, "null", "metric result is nil or empty"},
		{"500", 500, `{"ok":true}`, "", "", "", v1alpha1.AnalysisPhaseError, "", "received non 2xx response code: 500"},
		{"301 is not followed past 2xx", 302, ``, "", "", "", v1alpha1.AnalysisPhaseError, "", "received non 2xx response code: 302"},
		{"404", 404, `nope`, "", "", "", v1alpha1.AnalysisPhaseError, "", "received non 2xx response code: 404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.code, tt.body)
			cfg := map[string]any{"url": s.URL + "/health"}
			if tt.jsonPath != "" {
				cfg["jsonPath"] = tt.jsonPath
			}
			got := run(t, metric(t, cfg, tt.success, tt.failure))
			if got.Phase != tt.phase || got.Value != tt.value || !strings.Contains(got.Message, tt.msg) {
				t.Fatalf("got %s value %q message %q; want %s value %q message containing %q", got.Phase, got.Value, got.Message, tt.phase, tt.value, tt.msg)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	s := newServer(t, 200, `{"ok":true}`)
	got := run(t, metric(t, map[string]any{"url": s.URL, "method": "POST", "jsonBody": map[string]any{"service": "fhir"},
		"headers": []map[string]string{{"key": "X-Token", "value": "t0k"}, {"key": "X-Token", "value": "last"}}}, "result.ok", ""))
	if got.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("phase %s: %s", got.Phase, got.Message)
	}
	if s.method != "POST" || s.reqBody != `{"service":"fhir"}` || s.header.Get("Content-Type") != "application/json" || s.header.Values("X-Token")[0] != "last" || len(s.header.Values("X-Token")) != 1 {
		t.Fatalf("request: %s %q headers %v", s.method, s.reqBody, s.header)
	}
	run(t, metric(t, map[string]any{"url": s.URL, "method": "PUT", "body": "plain"}, "", ""))
	if s.method != "PUT" || s.reqBody != "plain" || s.header.Get("Content-Type") == "application/json" {
		t.Fatalf("request: %s %q headers %v", s.method, s.reqBody, s.header)
	}
	run(t, metric(t, map[string]any{"url": s.URL}, "", ""))
	if s.method != "GET" || s.reqBody != "" {
		t.Fatalf("default method: %s %q", s.method, s.reqBody)
	}
}

func TestTimeout(t *testing.T) {
	s := newServer(t, 200, `{}`)
	s.delay = 5 * time.Second
	got := run(t, metric(t, map[string]any{"url": s.URL, "timeoutSeconds": 1}, "", ""))
	if got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, "did not answer within the 1s timeout (timeoutSeconds: 1)") {
		t.Fatalf("got %s %q", got.Phase, got.Message)
	}
	if d := got.FinishedAt.Sub(got.StartedAt.Time); d > 4*time.Second {
		t.Fatalf("the timeout took %s", d)
	}
}

func TestUnreachable(t *testing.T) {
	s := newServer(t, 200, `{}`)
	url := s.URL
	s.Close()
	got := run(t, metric(t, map[string]any{"url": url}, "", ""))
	if got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, "connect") {
		t.Fatalf("got %s %q", got.Phase, got.Message)
	}
}

func TestOAuth2(t *testing.T) {
	token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		user, pass, _ := r.BasicAuth()
		if r.Form.Get("grant_type") != "client_credentials" || user != "nerve" || pass != "s3cret" || r.Form.Get("scope") != "read" {
			http.Error(w, "bad client", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"abc","token_type":"Bearer","expires_in":3600}`)
	}))
	defer token.Close()
	s := newServer(t, 200, `{"ok":true}`)
	got := run(t, metric(t, map[string]any{"url": s.URL, "authentication": map[string]any{"oauth2": map[string]any{
		"tokenUrl": token.URL, "clientId": "nerve", "clientSecret": "s3cret", "scopes": []string{"read"}}}}, "result.ok", ""))
	if got.Phase != v1alpha1.AnalysisPhaseSuccessful || s.header.Get("Authorization") != "Bearer abc" {
		t.Fatalf("got %s %q, Authorization %q", got.Phase, got.Message, s.header.Get("Authorization"))
	}
}

func TestInsecure(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"ok":true}`) }))
	defer s.Close()
	if got := run(t, metric(t, map[string]any{"url": s.URL}, "result.ok", "")); got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, "certificate") {
		t.Fatalf("without insecure: %s %q", got.Phase, got.Message)
	}
	if got := run(t, metric(t, map[string]any{"url": s.URL, "insecure": true}, "result.ok", "")); got.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("with insecure: %s %q", got.Phase, got.Message)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		want string
	}{
		{"empty", `null`, "config is empty"},
		{"unknown field", `{"url":"http://x","jsonPaht":"{$}"}`, `unknown field "jsonPaht"`},
		{"no url", `{}`, "url: must not be empty"},
		{"not a url", `{"url":"x:y"}`, `url: "x:y" is not an http(s) URL`},
		{"method", `{"url":"http://x","method":"DELETE"}`, `method: "DELETE" is not one of GET, POST, PUT`},
		{"both bodies", `{"url":"http://x","method":"POST","body":"a","jsonBody":{"a":1}}`, "use either Body or JSONBody; both cannot exists for WebMetric payload"},
		{"body with GET", `{"url":"http://x","body":"a"}`, "Body/JSONBody can only be used with POST or PUT WebMetric Method types"},
		{"jsonBody with GET", `{"url":"http://x","jsonBody":{"a":1}}`, "Body/JSONBody can only be used with POST or PUT WebMetric Method types"},
		{"bad jsonPath", `{"url":"http://x","jsonPath":"{$.a"}`, `jsonPath: "{$.a"`},
		{"header without key", `{"url":"http://x","headers":[{"value":"v"}]}`, "headers[0].key: must not be empty"},
		{"oauth2 without secret", `{"url":"http://x","authentication":{"oauth2":{"tokenUrl":"http://t","clientId":"c"}}}`, "missing mandatory parameter in metric for OAuth2 setup"},
		{"basicAuth", `{"url":"http://x","authentication":{"basicAuth":{"username":"u"}}}`, "authentication.basicAuth: not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := v1alpha1.Metric{Name: "web", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{DefaultName: json.RawMessage(tt.cfg)}}}
			got := run(t, m)
			want := `provider.plugin["nerve/web"]: `
			if got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, tt.want) || !strings.HasPrefix(got.Message, want) {
				t.Fatalf("got %s %q; want Error %q...%q", got.Phase, got.Message, want, tt.want)
			}
			if _, err := New(Options{}).GetMetadata(t.Context(), m); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("GetMetadata err = %v", err)
			}
		})
	}
}

// TestBuiltinBlock: a metric with Argo's provider.web block (as an Argo AnalysisTemplate has it)
// is read directly, and the JSON nerve's loop hands the plugin for it (the block under
// provider.plugin["nerve/web"]) decodes to the same config.
func TestBuiltinBlock(t *testing.T) {
	s := newServer(t, 200, `{"ok":true}`)
	var m v1alpha1.Metric
	doc := `{"name":"web","successCondition":"result == true","provider":{"web":{"url":"` + s.URL + `","jsonPath":"{$.ok}","timeoutSeconds":5,"headers":[{"key":"X-A","value":"b"}]}}}`
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	if got := run(t, m); got.Phase != v1alpha1.AnalysisPhaseSuccessful || got.Value != "true" || s.header.Get("X-A") != "b" {
		t.Fatalf("provider.web: %s %q %q", got.Phase, got.Value, got.Message)
	}
	raw, err := json.Marshal(m.Provider.Web)
	if err != nil {
		t.Fatal(err)
	}
	m.Provider = v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{DefaultName: raw}}
	if got := run(t, m); got.Phase != v1alpha1.AnalysisPhaseSuccessful || got.Value != "true" {
		t.Fatalf("provider.plugin: %s %q %q", got.Phase, got.Value, got.Message)
	}
}

func TestNamedPlugin(t *testing.T) {
	s := newServer(t, 200, `{"ok":true}`)
	m := metric(t, map[string]any{"url": s.URL}, "", "")
	m.Provider.Plugin = map[string]json.RawMessage{"acme/web": m.Provider.Plugin[DefaultName]}
	p := New(Options{Name: "acme/web"})
	got, _ := p.Run(t.Context(), &v1alpha1.AnalysisRun{}, m)
	if got.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("--name acme/web: %s %q", got.Phase, got.Message)
	}
	got = run(t, m)
	if got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, `has neither provider.plugin["nerve/web"] nor provider.web`) {
		t.Fatalf("default name: %s %q", got.Phase, got.Message)
	}
}

func TestResumeTerminateUnchanged(t *testing.T) {
	p := New(Options{})
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: "1"}
	if out, err := p.Resume(t.Context(), nil, v1alpha1.Metric{}, in); err != nil || out.Phase != in.Phase || out.Value != in.Value {
		t.Fatalf("Resume: %+v %v", out, err)
	}
	if out, err := p.Terminate(t.Context(), nil, v1alpha1.Metric{}, in); err != nil || out.Phase != in.Phase || out.Value != in.Value {
		t.Fatalf("Terminate: %+v %v", out, err)
	}
	if typ, _ := p.Type(t.Context()); typ != "Web" {
		t.Fatalf("Type = %q", typ)
	}
}
