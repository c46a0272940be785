package dashboard

import (
	"bufio"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	authv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
	"github.com/nerve-rollouts/nerve/view"
)

type fakeSource struct {
	mu      sync.Mutex
	step    string
	patches []string
}

func ptr[T any](v T) *T { return &v }

func (f *fakeSource) rollout() *v1alpha1.Rollout {
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "mllp-listener", Namespace: "clinical-ingestion"},
		Spec: v1alpha1.RolloutSpec{Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{Steps: []v1alpha1.CanaryStep{
			{SetWeight: ptr(int32(25))}, {Pause: &v1alpha1.RolloutPause{}}, {SetWeight: ptr(int32(50))},
		}}}},
		Status: v1alpha1.RolloutStatus{CurrentStepIndex: ptr(int32(1)), PauseConditions: []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonCanaryPauseStep}}},
	}
}

func (f *fakeSource) List(context.Context, []string) ([]view.Rollout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []view.Rollout{
		{Name: "mllp-listener", Namespace: "clinical-ingestion", Status: "Paused", Step: f.step, SetWeight: "25", ActualWeight: "25"},
		{Name: "kafka-connect", Namespace: "zz-other", Status: "Healthy"},
		{Name: "flink-jobs", Namespace: "platform-flink", Status: "Healthy"},
	}, nil
}

func (f *fakeSource) Rollout(_ context.Context, ns, name string) (Detail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Detail{View: view.Rollout{Name: name, Namespace: ns, Status: "Paused", Step: f.step, ActualWeight: "25"}, Object: f.rollout(),
		Traffic: Traffic{MLLP: []MLLPReplica{{Router: "nerve/mllp", Route: "mllproute/x", Replica: "proxy-0", Weight: "25/100", Ready: true, Fresh: true, CanaryShare: "24.8%"}}}}, nil
}

func (f *fakeSource) Patch(_ context.Context, _, _ string, p actions.Patch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.patches = append(f.patches, p.Status+p.Spec)
	return nil
}

func (f *fakeSource) setStep(s string) {
	f.mu.Lock()
	f.step = s
	f.mu.Unlock()
}

type chanWatcher chan Change

func (c chanWatcher) Watch(ctx context.Context, notify func(Change)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case ch := <-c:
			notify(ch)
		}
	}
}

// world is a dashboard behind httptest with a client that has signed in.
type world struct {
	srv     *Server
	ts      *httptest.Server
	src     *fakeSource
	watch   chanWatcher
	client  *http.Client
	csrf    string
	allowed bool
}

func newWorld(t *testing.T, readOnly, allowed bool) *world {
	t.Helper()
	cs := fake.NewClientset()
	w := &world{src: &fakeSource{step: "1/3"}, watch: make(chanWatcher), allowed: allowed}
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview)
		r.Status.Allowed = w.allowed
		return true, r, nil
	})
	srv, err := New(Config{Source: w.src, Patcher: w.src, Watcher: w.watch, Reviews: cs.AuthorizationV1().SelfSubjectAccessReviews(),
		ReadOnly: readOnly, Scope: "test", Debounce: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.srv = srv
	w.ts = httptest.NewUnstartedServer(nil)
	w.ts.Start()
	u, _ := url.Parse(w.ts.URL)
	srv.auth.hosts = map[string]bool{u.Host: true}
	w.ts.Config.Handler = srv.Handler()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); w.ts.Close() })
	go func() { _ = w.watch.Watch(ctx, srv.hub.publish) }()
	jar, _ := cookiejar.New(nil)
	w.client = &http.Client{Jar: jar}
	resp, err := w.client.Get(w.ts.URL + "/?token=" + srv.Token())
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("sign in: %d\n%s", resp.StatusCode, body)
	}
	w.csrf = m[1]
	return w
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}

func (w *world) post(t *testing.T, path string, form url.Values, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", w.ts.URL)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	c := &http.Client{Jar: w.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestTokenCookieAndHost(t *testing.T) {
	w := newWorld(t, false, true)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/", "/rollouts/a/b", "/sse/overview", "/?token=wrong"} {
		resp, err := noRedirect.Get(w.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: %d, want 401", path, resp.StatusCode)
		}
	}
	resp, err := noRedirect.Get(w.ts.URL + "/rollouts/a/b?token=" + w.srv.Token() + "&x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/rollouts/a/b?x=1" {
		t.Errorf("token exchange: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	c := resp.Cookies()
	if len(c) != 1 || c[0].Name != CookieName || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie %+v", c)
	}
	req, _ := http.NewRequest(http.MethodGet, w.ts.URL+"/", nil)
	req.Host = "evil.example:80"
	resp, err = w.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("foreign Host: %d", resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	tampered := &http.Cookie{Name: CookieName, Value: c[0].Value + "x"}
	req, _ = http.NewRequest(http.MethodGet, w.ts.URL+"/", nil)
	req.AddCookie(tampered)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("tampered cookie: %d", resp.StatusCode)
	}
}

func TestActionNeedsCSRFAndOrigin(t *testing.T) {
	w := newWorld(t, false, true)
	path := "/rollouts/clinical-ingestion/mllp-listener/actions/promote"
	cases := []struct {
		name string
		form url.Values
		hdr  map[string]string
		want int
	}{
		{"no token", url.Values{}, nil, http.StatusForbidden},
		{"bad token", url.Values{"csrf": {w.csrf + "x"}}, nil, http.StatusForbidden},
		{"other origin", url.Values{"csrf": {w.csrf}}, map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"no origin", url.Values{"csrf": {w.csrf}}, map[string]string{"Origin": ""}, http.StatusForbidden},
		{"cross-site fetch", url.Values{"csrf": {w.csrf}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"header token", url.Values{}, map[string]string{csrfHeader: w.csrf}, http.StatusSeeOther},
		{"form token", url.Values{"csrf": {w.csrf}}, nil, http.StatusSeeOther},
	}
	for _, tc := range cases {
		if resp := w.post(t, path, tc.form, tc.hdr); resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	if len(w.src.patches) != 2 || w.src.patches[0] != actions.PatchClearPauseConditions {
		t.Errorf("patches %q", w.src.patches)
	}
	if resp := w.post(t, "/rollouts/a/b/actions/delete", url.Values{"csrf": {w.csrf}}, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown action: %d", resp.StatusCode)
	}
}

func TestActionsFollowAccessAndReadOnly(t *testing.T) {
	for _, tc := range []struct {
		name              string
		readOnly, allowed bool
		links             bool
		status            int
	}{
		{"operator", false, true, true, http.StatusSeeOther},
		{"viewer", false, false, false, http.StatusForbidden},
		{"read-only", true, true, false, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.readOnly, tc.allowed)
			resp, err := w.client.Get(w.ts.URL + "/rollouts/clinical-ingestion/mllp-listener")
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if got := strings.Contains(body, `data-action="promote"`); got != tc.links {
				t.Errorf("promote link shown: %v, want %v", got, tc.links)
			}
			for _, want := range []string{"proxy-0", "24.8%", `class="current"`} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			resp = w.post(t, "/rollouts/clinical-ingestion/mllp-listener/actions/abort", url.Values{"csrf": {w.csrf}}, nil)
			if resp.StatusCode != tc.status {
				t.Errorf("POST abort: %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
}

func TestOverviewGroupsNerveNamespacesFirst(t *testing.T) {
	w := newWorld(t, false, true)
	resp, err := w.client.Get(w.ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	a, b, c := strings.Index(body, `data-ns="platform-flink"`), strings.Index(body, `data-ns="clinical-ingestion"`), strings.Index(body, `data-ns="zz-other"`)
	if a < 0 || b < a || c < b {
		t.Errorf("namespace order %d %d %d:\n%s", a, b, c, body)
	}
}

func TestWriteEventFraming(t *testing.T) {
	var b strings.Builder
	if err := writeEvent(&b, "7", "html", "<p>a</p>\r\n<p>b</p>\rc"); err != nil {
		t.Fatal(err)
	}
	want := "id: 7\nevent: html\ndata: <p>a</p>\ndata: <p>b</p>\ndata: c\n\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestStreamSendsChanges(t *testing.T) {
	w := newWorld(t, false, true)
	resp, err := w.client.Get(w.ts.URL + "/sse/rollouts/clinical-ingestion/mllp-listener")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	events := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		var ev strings.Builder
		for sc.Scan() {
			if sc.Text() == "" {
				events <- ev.String()
				ev.Reset()
				continue
			}
			ev.WriteString(sc.Text() + "\n")
		}
	}()
	next := func() string {
		select {
		case e := <-events:
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
		return ""
	}
	if e := next(); !strings.HasPrefix(e, "id: 1\nevent: html\n") || !strings.Contains(e, "1/3") {
		t.Fatalf("first event:\n%s", e)
	}
	w.src.setStep("2/3")
	start := time.Now()
	w.watch <- Change{Namespace: "other-namespace", Kind: "pods"} // not this page's
	w.watch <- Change{Namespace: "clinical-ingestion", Kind: "rollouts"}
	if e := next(); !strings.HasPrefix(e, "id: 2\n") || !strings.Contains(e, "2/3") {
		t.Fatalf("second event:\n%s", e)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("change took %s to arrive", d)
	}
}

func TestChartAndNumbers(t *testing.T) {
	for in, want := range map[string]float64{"[0.0031]": 0.0031, "42": 42, "{-1.5e-3}": -0.0015, "1e": 1} {
		if got, ok := firstNumber(in); !ok || got != want {
			t.Errorf("firstNumber(%q) = %v, %v", in, got, ok)
		}
	}
	if _, ok := firstNumber("(no data)"); ok {
		t.Error("number in (no data)")
	}
	if th, ok := threshold("result[0] < 0.005"); !ok || th != 0.005 {
		t.Errorf("threshold %v %v", th, ok)
	}
	c := newChart([]v1alpha1.Measurement{{Value: "[1]", Phase: "Successful"}, {Value: "[3]", Phase: "Failed"}}, "result[0] <= 2")
	if c == nil || len(c.Dots) != 2 || c.Threshold == nil || c.Dots[1].Class != "bad" || c.Line == "" {
		t.Fatalf("chart %+v", c)
	}
	if newChart([]v1alpha1.Measurement{{Value: "x"}}, "") != nil {
		t.Error("chart without numbers")
	}
}
