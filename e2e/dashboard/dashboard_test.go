//go:build e2e

package dashboard

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// canaryManifest is the live canary nerve-controller runs.
const canaryManifest = `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: mllp-listener}
spec:
  replicas: 4
  selector: {matchLabels: {app: mllp-listener}}
  template:
    metadata: {labels: {app: mllp-listener}}
    spec: {containers: [{name: listener, image: "registry.local/mllp-listener:1.4.1"}]}
  strategy:
    canary:
      steps: [{setWeight: 25}, {pause: {}}, {setWeight: 50}, {pause: {}}]
`

// routedManifest is a traffic-routed rollout whose routers' objects the test writes itself (no
// controller runs in its namespace): an HTTPRoute, an MLLPRoute and an AnalysisRun.
const routedManifest = `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: hl7-router}
spec:
  replicas: 4
  selector: {matchLabels: {app: hl7-router}}
  template:
    metadata: {labels: {app: hl7-router}}
    spec: {containers: [{name: router, image: "registry.local/hl7-router:2.0.1"}]}
  strategy:
    canary:
      canaryService: hl7-router-canary
      stableService: hl7-router-stable
      trafficRouting:
        plugins:
          nerve/gatewayAPI: {httpRoute: hl7-admin}
          nerve/mllp: {route: hl7-router}
      steps: [{setWeight: 10}, {pause: {}}, {analysis: {templates: [{templateName: ack-latency}]}}, {setWeight: 50}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hl7-admin}
spec:
  rules:
  - backendRefs:
    - {name: hl7-router-stable, port: 8080, weight: 90}
    - {name: hl7-router-canary, port: 8080, weight: 10}
---
apiVersion: mllp.nerve.io/v1alpha1
kind: MLLPRoute
metadata: {name: hl7-router}
spec: {service: hl7-router, stableService: hl7-router-stable, canaryService: hl7-router-canary, port: 2575, weight: 10}
`

const quietManifest = `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: flink-job}
spec:
  replicas: 1
  selector: {matchLabels: {app: flink-job}}
  template:
    metadata: {labels: {app: flink-job}}
    spec: {containers: [{name: job, image: "registry.local/flink-job:3.1"}]}
  strategy: {canary: {steps: [{setWeight: 50}]}}
`

func gvr(group, version, resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: version, Resource: resource}
}

func rollouts(env *framework.Env, ns string) dynamic.ResourceInterface {
	return env.Dynamic.Resource(v1alpha1.GroupVersionResource(v1alpha1.RolloutResource)).Namespace(ns)
}

func mergePatch(t *testing.T, ri dynamic.ResourceInterface, name, patch string, sub ...string) {
	t.Helper()
	if _, err := ri.Patch(t.Context(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, sub...); err != nil {
		t.Fatalf("patch %s %v: %v", name, sub, err)
	}
}

// seedRouted writes the routed rollout's status, the MLLP proxies' reports and an AnalysisRun
// with six measurements, as the controller, the proxies and the analysis would.
func seedRouted(t *testing.T, env *framework.Env) {
	t.Helper()
	ns := env.Namespace
	now := time.Now().UTC().Format(time.RFC3339)
	mergePatch(t, rollouts(env, ns), "hl7-router", `{"status":{"phase":"Paused","message":"CanaryPauseStep","observedGeneration":"1000",
		"currentStepIndex":1,"pauseConditions":[{"reason":"CanaryPauseStep","startTime":"`+now+`"}],"replicas":5,"updatedReplicas":1,
		"readyReplicas":5,"availableReplicas":5,"stableRS":"6b8f9d","currentPodHash":"7c4d2e",
		"canary":{"weights":{"canary":{"weight":10,"serviceName":"hl7-router-canary","podTemplateHash":"7c4d2e"},
		"stable":{"weight":90,"serviceName":"hl7-router-stable","podTemplateHash":"6b8f9d"}}}}}`, "status")
	mergePatch(t, env.Dynamic.Resource(gvr("mllp.nerve.io", "v1alpha1", "mllproutes")).Namespace(ns), "hl7-router",
		`{"status":{"replicas":[{"name":"nerve-mllp-proxy-0","observedGeneration":1,"weight":10,"heartbeatTime":"`+now+`","ready":true,"stableMessages":9012,"canaryMessages":1003},
		{"name":"nerve-mllp-proxy-1","observedGeneration":1,"weight":10,"heartbeatTime":"`+now+`","ready":true,"stableMessages":8870,"canaryMessages":981}]}}`, "status")
	ro, err := env.GetRollout(t.Context(), ns, "hl7-router")
	if err != nil {
		t.Fatal(err)
	}
	var ms []string
	for i, v := range []string{"0.0031", "0.0029", "0.0034", "0.0041", "0.0038", "0.0033"} {
		at := time.Now().Add(time.Duration(i-6) * 10 * time.Second).UTC().Format(time.RFC3339)
		ms = append(ms, fmt.Sprintf(`{phase: Successful, value: "[%s]", startedAt: "%s", finishedAt: "%s"}`, v, at, at))
	}
	env.Apply(t, fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: hl7-router-7c4d2e-2-2
  annotations: {rollout.argoproj.io/revision: "2"}
  ownerReferences: [{apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: hl7-router, uid: %s, controller: true}]
spec:
  metrics:
  - name: ack-latency
    interval: 10s
    count: 8
    successCondition: result[0] < 0.005
    provider: {prometheus: {address: "http://prometheus:9090", query: 'histogram_quantile(0.99, sum(rate(mllp_ack_latency_seconds_bucket{service="hl7-router"}[5m])) by (le))'}}
status:
  phase: Running
  metricResults:
  - {name: ack-latency, phase: Running, count: 6, successful: 6, measurements: [%s]}
`, ro.UID, strings.Join(ms, ", ")))
}

// bindViewer binds user e2e-viewer (group nerve:e2e-viewers) to the read-only team role in ns:
// Kubernetes' view plus nerve-view from manifests/rbac/roles.yaml (which aggregates into view
// where the manifests are installed), as a Role of ns.
func bindViewer(t *testing.T, env *framework.Env, ns string) {
	t.Helper()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "manifests", "rbac", "roles.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules []rbacv1.PolicyRule
	for _, doc := range strings.Split(string(b), "\n---") {
		var cr rbacv1.ClusterRole
		if err := yaml.Unmarshal([]byte(doc), &cr); err == nil && cr.Kind == "ClusterRole" && cr.Name == "nerve-view" {
			rules = cr.Rules
		}
	}
	if len(rules) == 0 {
		t.Fatal("no ClusterRole nerve-view in manifests/rbac/roles.yaml")
	}
	ctx := t.Context()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "nerve-view"}, Rules: rules}
	if _, err := env.Client.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	subjects := []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "nerve:e2e-viewers"}}
	for name, ref := range map[string]rbacv1.RoleRef{
		"e2e-viewers-nerve-view": {APIGroup: rbacv1.GroupName, Kind: "Role", Name: "nerve-view"},
		"e2e-viewers-view":       {APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
	} {
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, RoleRef: ref, Subjects: subjects}
		if _, err := env.Client.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDashboard drives the dashboard in a real browser against rollouts in three namespaces.
func TestDashboard(t *testing.T) {
	live, routed, quiet := framework.New(t), framework.New(t), framework.New(t)
	framework.StartController(t, live.Namespace)
	live.Apply(t, canaryManifest)
	routed.Apply(t, routedManifest)
	seedRouted(t, routed)
	quiet.Apply(t, quietManifest)
	live.WaitRollout(t, live.Namespace, "mllp-listener", 90*time.Second, "first revision healthy", framework.HealthyAt(nil))

	adminURL := startDashboard(t, "-A")
	base := adminURL[:strings.Index(adminURL, "/?token=")]
	ctx := browser(t)
	row := func(ns, name, k string) string {
		return fmt.Sprintf(`[data-rollout="%s/%s"] [data-k=%s]`, ns, name, k)
	}

	t.Run("overview shows every namespace", func(t *testing.T) {
		run(t, ctx, 30*time.Second, "open "+adminURL, chromedp.Navigate(adminURL))
		loc := value(t, ctx, "location", chromedp.Location())
		if strings.Contains(loc, "token=") {
			t.Errorf("token still in the address bar: %s", loc)
		}
		for _, ns := range []string{live.Namespace, routed.Namespace, quiet.Namespace} {
			waitJS(t, ctx, 20*time.Second, "section "+ns, fmt.Sprintf(`!!document.querySelector('section[data-ns=%q]')`, ns))
		}
		waitJS(t, ctx, 10*time.Second, "routed rollout paused at 1/4", sel(row(routed.Namespace, "hl7-router", "step"))+` === '1/4'`)
		if got := textOf(t, ctx, row(routed.Namespace, "hl7-router", "weight")); got != "10 / 10" {
			t.Errorf("routed set/actual weight %q", got)
		}
		if got := textOf(t, ctx, row(routed.Namespace, "hl7-router", "verdict")); got != "Running" {
			t.Errorf("routed analysis verdict %q", got)
		}
		if got := textOf(t, ctx, row(live.Namespace, "mllp-listener", "status")); !strings.Contains(got, "Healthy") {
			t.Errorf("live rollout status %q", got)
		}
	})

	t.Run("overview updates live: latency", func(t *testing.T) {
		value(t, ctx, "observer", chromedp.Evaluate[bool](observerJS))
		ri := rollouts(quiet, quiet.Namespace)
		var ds []time.Duration
		for i := 1; i <= 10; i++ {
			msg := fmt.Sprintf("latency-probe-%d", i)
			ds = append(ds, probe(t, ctx, msg, sel(row(quiet.Namespace, "flink-job", "message"))+fmt.Sprintf(" === %q", msg), func() {
				mergePatch(t, ri, "flink-job", fmt.Sprintf(`{"status":{"phase":"Paused","message":%q,"observedGeneration":"1000"}}`, msg), "status")
			}))
			time.Sleep(200 * time.Millisecond)
		}
		if _, maxD := latencyReport(t, "overview, Rollout status patch", ds); maxD > time.Second {
			t.Errorf("an update took %s to reach the page (want < 1s)", maxD)
		}
		marker := value(t, ctx, "marker", chromedp.Evaluate[string](`window.__marker || ''`))
		if marker != "no reload" {
			t.Error("the overview reloaded")
		}
		screenshot(t, ctx, "overview")
	})

	t.Run("rollout page: routers, analysis, live weights", func(t *testing.T) {
		run(t, ctx, 30*time.Second, "open routed rollout", chromedp.Navigate(base+"/rollouts/"+routed.Namespace+"/hl7-router"))
		canary := `[data-backend="httproutes/hl7-admin/0/hl7-router-canary"] [data-k=weight]`
		waitJS(t, ctx, 10*time.Second, "HTTPRoute canary weight", sel(canary)+` === '10'`)
		waitJS(t, ctx, 10*time.Second, "MLLP replicas", `document.querySelectorAll('[data-k=mllp] tr[data-replica]').length === 2`)
		if got := textOf(t, ctx, `[data-replica="nerve-mllp-proxy-0"] [data-k=share]`); got != "10.0%" {
			t.Errorf("proxy-0 canary share %q", got)
		}
		waitJS(t, ctx, 10*time.Second, "six measurements charted", `document.querySelectorAll('svg.chart circle').length === 6`)
		waitJS(t, ctx, 10*time.Second, "current step marked", `(document.querySelector('ol.steps li.current') || {}).dataset.step === '1'`)
		value(t, ctx, "observer", chromedp.Evaluate[bool](observerJS))
		hr := routed.Dynamic.Resource(gvr("gateway.networking.k8s.io", "v1", "httproutes")).Namespace(routed.Namespace)
		var ds []time.Duration
		for w := 11; w <= 20; w++ {
			ds = append(ds, probe(t, ctx, fmt.Sprint("w", w), sel(canary)+fmt.Sprintf(" === '%d'", w), func() {
				mergePatch(t, hr, "hl7-admin", fmt.Sprintf(`{"spec":{"rules":[{"backendRefs":[{"name":"hl7-router-stable","port":8080,"weight":%d},{"name":"hl7-router-canary","port":8080,"weight":%d}]}]}}`, 100-w, w))
			}))
			time.Sleep(200 * time.Millisecond)
		}
		if _, maxD := latencyReport(t, "rollout page, HTTPRoute weight patch", ds); maxD > time.Second {
			t.Errorf("an update took %s to reach the page (want < 1s)", maxD)
		}
		mr := routed.Dynamic.Resource(gvr("mllp.nerve.io", "v1alpha1", "mllproutes")).Namespace(routed.Namespace)
		d := probe(t, ctx, "mllp", sel(`[data-replica="nerve-mllp-proxy-1"] [data-k=weight]`)+` === '25/100'`, func() {
			mergePatch(t, mr, "hl7-router", `{"status":{"replicas":[{"name":"nerve-mllp-proxy-0","observedGeneration":2,"weight":25,"heartbeatTime":"`+
				time.Now().UTC().Format(time.RFC3339)+`","ready":true,"stableMessages":9100,"canaryMessages":1100},{"name":"nerve-mllp-proxy-1","observedGeneration":2,"weight":25,"heartbeatTime":"`+
				time.Now().UTC().Format(time.RFC3339)+`","ready":true,"stableMessages":8900,"canaryMessages":1050}]}}`, "status")
		})
		t.Logf("MLLPRoute applied weight change reached the page in %s", d.Round(time.Millisecond))
		screenshot(t, ctx, "rollout-routed")
	})

	t.Run("follow a live canary and promote it", func(t *testing.T) {
		page := base + "/rollouts/" + live.Namespace + "/mllp-listener"
		run(t, ctx, 30*time.Second, "open live rollout", chromedp.Navigate(page))
		waitJS(t, ctx, 10*time.Second, "healthy", sel(`[data-k=status]`)+`.includes('Healthy')`)
		value(t, ctx, "observer", chromedp.Evaluate[bool](observerJS))
		mergePatch(t, rollouts(live, live.Namespace), "mllp-listener", `{"spec":{"template":{"spec":{"containers":[{"name":"listener","image":"registry.local/mllp-listener:1.4.2"}]}}}}`)
		waitJS(t, ctx, 60*time.Second, "canary paused at step 1/4", sel(`[data-k=step]`)+` === '1/4' && `+sel(`[data-k=status]`)+`.includes('Paused')`)
		if got := textOf(t, ctx, `[data-k=setweight]`); got != "25" {
			t.Errorf("set weight %q", got)
		}
		t.Logf("actual weight on the page: %s", textOf(t, ctx, `[data-k=actualweight]`))
		marker := value(t, ctx, "marker", chromedp.Evaluate[string](`window.__marker || ''`))
		if marker != "no reload" {
			t.Error("the page reloaded while following the canary")
		}
		screenshot(t, ctx, "rollout-canary-paused")
		clickLive(t, ctx, `a[data-action="promote"]`)
		run(t, ctx, 20*time.Second, "confirm page", chromedp.WaitVisible(chromedp.CSS(`#confirm`)))
		plan := textOf(t, ctx, `ul.plan`)
		if !strings.Contains(plan, "ends the pause") {
			t.Errorf("promote plan %q", plan)
		}
		screenshot(t, ctx, "confirm-promote")
		run(t, ctx, 20*time.Second, "confirm", chromedp.Click(chromedp.CSS(`#confirm`)), chromedp.WaitVisible(chromedp.CSS(`[data-k=done]`)))
		waitJS(t, ctx, 60*time.Second, "canary moved to step 3/4", sel(`[data-k=step]`)+` === '3/4' && `+sel(`[data-k=setweight]`)+` === '50'`)
		ro := live.WaitRollout(t, live.Namespace, "mllp-listener", 30*time.Second, "at step 3", func(ro *v1alpha1.Rollout) bool {
			return ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex == 3
		})
		t.Logf("after promote: step %d, phase %s", *ro.Status.CurrentStepIndex, ro.Status.Phase)
		screenshot(t, ctx, "rollout-promoted")
	})

	t.Run("requests without the token or with a bad CSRF token are refused", func(t *testing.T) {
		refusals(t, base, adminURL, live.Namespace)
	})

	t.Run("the read-only team role gets no actions and a 403", func(t *testing.T) {
		bindViewer(t, live, live.Namespace)
		viewerURL := startDashboard(t, "-n", live.Namespace, "--as", "e2e-viewer", "--as-group", "nerve:e2e-viewers")
		vbase := viewerURL[:strings.Index(viewerURL, "/?token=")]
		vctx := browser(t)
		run(t, vctx, 30*time.Second, "sign in", chromedp.Navigate(viewerURL))
		run(t, vctx, 30*time.Second, "open rollout", chromedp.Navigate(vbase+"/rollouts/"+live.Namespace+"/mllp-listener"))
		waitJS(t, vctx, 20*time.Second, "page rendered", sel(`[data-k=step]`)+` === '3/4'`)
		n := value(t, vctx, "count buttons", chromedp.Evaluate[int](`document.querySelectorAll('a[data-action], form button').length`))
		if n != 0 {
			t.Errorf("%d action buttons for the read-only user", n)
		}
		if note := textOf(t, vctx, `[data-k=actions-note]`); !strings.Contains(note, "may not patch") {
			t.Errorf("actions note %q", note)
		}
		js := `fetch(location.pathname + '/actions/promote', {method: 'POST', headers: {'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content}}).then(r => r.status)`
		status := value(t, vctx, "POST promote", chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
		if status != http.StatusForbidden {
			t.Errorf("POST promote as the read-only user: %d, want 403", status)
		}
		screenshot(t, vctx, "rollout-read-only")
		ro, err := live.GetRollout(t.Context(), live.Namespace, "mllp-listener")
		if err != nil || *ro.Status.CurrentStepIndex != 3 || len(ro.Status.PauseConditions) == 0 {
			t.Errorf("the read-only user's request changed the rollout (err %v)", err)
		}
	})
}

// refusals checks, with a plain HTTP client, that the dashboard refuses a request without a
// session, with a bad token, and an action with a missing or bad CSRF token or a foreign Origin.
func refusals(t *testing.T, base, signIn, ns string) {
	t.Helper()
	get := func(c *http.Client, u string) (int, string) {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(http.DefaultClient, base+"/"); code != http.StatusUnauthorized {
		t.Errorf("GET / without the token: %d, want 401", code)
	}
	if code, _ := get(http.DefaultClient, base+"/?token=not-the-token"); code != http.StatusUnauthorized {
		t.Errorf("GET / with a bad token: %d, want 401", code)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.Method == http.MethodPost || len(via) > 0 && via[0].Method == http.MethodPost {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	code, body := get(c, signIn)
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("sign in: %d", code)
	}
	action := base + "/rollouts/" + ns + "/mllp-listener/actions/pause"
	for _, tc := range []struct {
		name, csrf, origin string
	}{
		{"no CSRF token", "", base},
		{"bad CSRF token", m[1][:len(m[1])-2] + "xx", base},
		{"foreign Origin", m[1], "http://evil.example"},
	} {
		req, _ := http.NewRequest(http.MethodPost, action, strings.NewReader(url.Values{"csrf": {tc.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", tc.origin)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST pause, %s: %d, want 403", tc.name, resp.StatusCode)
		}
	}
	t.Logf("refused: no token, bad token, no CSRF token, bad CSRF token, foreign Origin")
}
