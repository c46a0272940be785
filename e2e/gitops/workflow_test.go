//go:build e2e

package gitops

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/router/mllp"
)

var applicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

const (
	app   = "mllp-listener"
	image = "registry.local/mllp-listener"
)

const baseKustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [rollout.yaml, analysistemplate.yaml, route.yaml]
`

const baseRollout = `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: mllp-listener}
spec:
  replicas: 2
  selector: {matchLabels: {app: mllp-listener}}
  template:
    metadata: {labels: {app: mllp-listener}}
    spec:
      containers: [{name: listener, image: "registry.local/mllp-listener:1.0.0"}]
  strategy:
    canary:
      steps:
      - setWeight: 50
      - analysis: {templates: [{templateName: mllp-health-check}]}
`

const baseTemplate = `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: mllp-health-check}
spec:
  metrics:
  - name: ack-latency
    interval: 1s
    count: 2
    successCondition: result[0] < 0.005
    provider:
      plugin:
        e2e/metric: {query: 'histogram_quantile(0.99, sum(rate(mllp_ack_latency_seconds_bucket[1m])) by (le))'}
`

const baseRoute = `apiVersion: mllp.nerve.io/v1alpha1
kind: MLLPRoute
metadata: {name: mllp-listener}
spec:
  service: mllp-listener
  stableService: mllp-listener-stable
  canaryService: mllp-listener-canary
  port: mllp
  weight: 0
  stickyKey: pid3
`

func overlay(tag string) string {
	return fmt.Sprintf(`# the overlay of one environment
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../../../base/mllp-listener]
images:
  - name: %s
    newTag: "%s"
`, image, tag)
}

func application(env, ns, remote string) string {
	return fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: mllp-listener-%[1]s
  labels: {nerve.io/app: mllp-listener, nerve.io/environment: %[1]s}
spec:
  project: default
  source: {repoURL: "%[3]s", targetRevision: main, path: environments/%[1]s/mllp-listener}
  destination: {server: "https://kubernetes.default.svc", namespace: %[2]s}
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [ServerSideApply=true, RespectIgnoreDifferences=true]
  ignoreDifferences:
    - {group: mllp.nerve.io, kind: MLLPRoute, jsonPointers: [/spec/weight], managedFieldsManagers: [nerve-mllp-router]}
`, env, ns, remote)
}

const rootApplication = `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: nerve-app-of-apps-e2e}
spec:
  project: default
  source: {repoURL: "%s", targetRevision: main, path: apps}
  destination: {server: "https://kubernetes.default.svc", namespace: %s}
  syncPolicy: {automated: {prune: true, selfHeal: true}}
`

// world is the test's GitOps setup: Argo CD's namespace, the staging and prod namespaces, their
// controllers and metric values, the remote and its clones.
type world struct {
	t              *testing.T
	argo           *framework.Env
	staging, prod  *framework.Env
	stagingMetric  string
	prodMetric     string
	remote         string
	work, argoRepo *repo
	n              *nerve
}

func newWorld(t *testing.T) *world {
	framework.InstallArgoCDCRDs(t)
	w := &world{t: t, argo: framework.New(t), staging: framework.New(t), prod: framework.New(t)}
	w.stagingMetric = testMetric(t, w.staging, w.staging.Namespace)
	w.prodMetric = testMetric(t, w.prod, w.prod.Namespace)
	framework.StartController(t, w.staging.Namespace)
	framework.StartController(t, w.prod.Namespace)
	w.remote, w.work, w.argoRepo = newRemote(t)
	w.work.write("base/mllp-listener/kustomization.yaml", baseKustomization)
	w.work.write("base/mllp-listener/rollout.yaml", baseRollout)
	w.work.write("base/mllp-listener/analysistemplate.yaml", baseTemplate)
	w.work.write("base/mllp-listener/route.yaml", baseRoute)
	w.work.write("environments/staging/mllp-listener/kustomization.yaml", overlay("1.0.0"))
	w.work.write("environments/prod/mllp-listener/kustomization.yaml", overlay("1.0.0"))
	w.work.git("add", ".")
	w.work.git("commit", "-qm", "mllp-listener 1.0.0 in staging and prod")
	w.work.git("push", "-q", "-u", "origin", "main")
	w.argo.Apply(t, application("staging", w.staging.Namespace, w.remote))
	w.argo.Apply(t, application("prod", w.prod.Namespace, w.remote))
	w.argo.Apply(t, fmt.Sprintf(rootApplication, w.remote, w.argo.Namespace))
	w.n = newNerve(t)
	return w
}

func (w *world) sync(env string) {
	w.t.Helper()
	standInArgoCDSync(w.t, w.argo, w.argoRepo, w.argo.Namespace, "mllp-listener-"+env)
}

func (w *world) ns(env string) string {
	if env == "prod" {
		return w.prod.Namespace
	}
	return w.staging.Namespace
}

func (w *world) envOf(env string) *framework.Env {
	if env == "prod" {
		return w.prod
	}
	return w.staging
}

// healthyOn waits until the Rollout of env is Healthy with its stable on tag.
func (w *world) healthyOn(env, tag string) {
	w.t.Helper()
	w.envOf(env).WaitRollout(w.t, w.ns(env), app, 120*time.Second, env+" healthy on "+tag, func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Phase == v1alpha1.RolloutPhaseHealthy && ro.Status.StableRS != "" && ro.Status.StableRS == ro.Status.CurrentPodHash &&
			ro.Spec.Template.Spec.Containers[0].Image == image+":"+tag && ro.Status.ObservedGeneration == fmt.Sprint(ro.Generation)
	})
}

func (w *world) degraded(env string) {
	w.t.Helper()
	w.envOf(env).WaitRollout(w.t, w.ns(env), app, 120*time.Second, env+" aborted", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
}

// bump changes env's overlay in a colleague's commit pushed to the remote.
func (w *world) bump(env, tag string) {
	w.t.Helper()
	w.work.write("environments/"+env+"/mllp-listener/kustomization.yaml", overlay(tag))
	w.work.git("commit", "-qam", fmt.Sprintf("mllp-listener %s in %s", tag, env))
	w.work.git("push", "-q")
}

func (w *world) gitops(args ...string) []string {
	return append(args, "--argocd-namespace", w.argo.Namespace, "--repo", w.work.dir)
}

func logOutput(t *testing.T, what string, r result) {
	t.Logf("%s (exit %d):\n%s%s", what, r.Code, r.Out, r.Err)
}

// TestGitOpsWorkflow: staging passes its analysis and is promoted to prod in Git; prod's
// canary fails and is rolled back in Git; drift from kubectl edit is found and classed while
// the router's weight is not drift; the gates refuse what they must.
func TestGitOpsWorkflow(t *testing.T) {
	w := newWorld(t)
	w.sync("staging")
	w.sync("prod")
	w.healthyOn("staging", "1.0.0")
	w.healthyOn("prod", "1.0.0")

	t.Run("promotion refused without a passed analysis", func(t *testing.T) {
		r := w.n.must(1, w.gitops("env", "promote", app, "--from", "staging", "--to", "prod")...)
		contains(t, r.Err, "refused", "did not pass analysis", "NoAnalysis")
	})
	t.Run("staging canary passes analysis", func(t *testing.T) {
		w.bump("staging", "1.0.1")
		w.sync("staging")
		w.healthyOn("staging", "1.0.1")
	})
	t.Run("env status", func(t *testing.T) {
		r := w.n.must(0, w.gitops("env", "status", app, "--envs", "staging,prod")...)
		logOutput(t, "kubectl nerve env status", r)
		contains(t, r.Out, "staging", "prod", image+":1.0.1", "Successful", "NoAnalysis")
	})
	t.Run("promotion refused when the target has uncommitted changes", func(t *testing.T) {
		stray := filepath.Join(w.work.dir, "environments/prod/mllp-listener/stray.yaml")
		if err := os.WriteFile(stray, []byte("x: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(stray)
		r := w.n.must(1, w.gitops("env", "promote", app, "--from", "staging", "--to", "prod")...)
		contains(t, r.Err, "uncommitted changes", "stray.yaml")
	})
	t.Run("promotion staging to prod", func(t *testing.T) { promote(t, w) })
	t.Run("prod canary fails and is rolled back in Git", func(t *testing.T) { rollback(t, w) })
	t.Run("promotion of a rejected revision refused", func(t *testing.T) {
		r := w.n.must(1, w.gitops("env", "promote", app, "--from", "staging", "--to", "prod")...)
		contains(t, r.Err, "refused", "was rolled back in prod", "nerve-rejected.yaml")
	})
	t.Run("promotion refused on a failed analysis", func(t *testing.T) {
		setMetric(t, w.stagingMetric, "0.02")
		w.bump("staging", "1.0.2")
		w.sync("staging")
		w.degraded("staging")
		r := w.n.must(1, w.gitops("env", "promote", app, "--from", "staging", "--to", "prod")...)
		logOutput(t, "kubectl nerve env promote (failed analysis)", r)
		contains(t, r.Err, "refused", "did not pass analysis", image+":1.0.2", "Failed")
	})
	t.Run("drift", func(t *testing.T) { drift(t, w) })
	t.Run("live edits refused under self-heal", func(t *testing.T) {
		r := w.n.must(1, "undo", app, "-n", w.prod.Namespace, "--argocd-namespace", w.argo.Namespace)
		contains(t, r.Err, "self-heal", "mllp-listener-prod", "--ignore-self-heal")
		r = w.n.must(1, "set", "image", app, "listener="+image+":9.9.9", "-n", w.prod.Namespace, "--argocd-namespace", w.argo.Namespace)
		contains(t, r.Err, "self-heal")
	})
	t.Run("apps", func(t *testing.T) { apps(t, w) })
	t.Run("history", func(t *testing.T) {
		r := w.n.must(0, w.gitops("history", app, "--env", "prod")...)
		logOutput(t, "kubectl nerve history", r)
		contains(t, r.Out, "promote mllp-listener staging → prod", "Revert", image+":1.0.1", "Failed (rejected)")
	})
}

func promote(t *testing.T, w *world) {
	// a colleague's unrelated commit moves the remote: promote fast-forwards first
	w.argoRepo.git("pull", "-q", "--ff-only")
	w.argoRepo.write("README.md", "colleague\n")
	w.argoRepo.git("add", "README.md")
	w.argoRepo.git("commit", "-qm", "unrelated")
	w.argoRepo.git("push", "-q")
	r := w.n.must(0, w.gitops("env", "promote", app, "--from", "staging", "--to", "prod")...)
	logOutput(t, "kubectl nerve env promote mllp-listener --from staging --to prod", r)
	contains(t, r.Out, "promote mllp-listener staging → prod", image+":1.0.0", image+":1.0.1", "Successful", "pushed")
	contains(t, r.Err, "fast-forwarded")
	msg := w.work.git("log", "-1", "--format=%B", "origin/main")
	contains(t, msg, "Nerve-Promoted-From: staging", "Nerve-Source-Revision: ", "Nerve-Image: "+image+":1.0.1",
		"Nerve-Analysis-Run: "+w.staging.Namespace+"/")
	files := w.work.git("show", "--name-only", "--format=", "origin/main")
	if files != "environments/prod/mllp-listener/kustomization.yaml" {
		t.Fatalf("the promotion changed %q", files)
	}
	contains(t, w.work.git("show", "origin/main:environments/prod/mllp-listener/kustomization.yaml"), `newTag: "1.0.1"`, "# the overlay")
	w.n.must(0, w.gitops("env", "promote", app, "--from", "staging", "--to", "prod")...) // nothing left to promote
}

func rollback(t *testing.T, w *world) {
	setMetric(t, w.prodMetric, "0.02")
	w.sync("prod")
	w.degraded("prod")
	promoting := w.work.git("rev-parse", "HEAD")
	r := w.n.must(0, append(w.gitops("rollback", app, "-n", w.prod.Namespace), "--reason", "ack latency over 5 ms")...)
	logOutput(t, "kubectl nerve rollback", r)
	contains(t, r.Out, "aborted", "reverted "+promoting[:8], "rejected "+image+":1.0.1", "pushed")
	contains(t, w.work.git("show", "origin/main:environments/prod/mllp-listener/kustomization.yaml"), `newTag: "1.0.0"`)
	contains(t, w.work.git("show", "origin/main:environments/prod/mllp-listener/nerve-rejected.yaml"), image+":1.0.1", "ack latency over 5 ms", promoting)
	contains(t, w.work.git("log", "-1", "--format=%B", "origin/main"), "Nerve-Rollback-Of: "+promoting)
	setMetric(t, w.prodMetric, "0.001")
	w.sync("prod")
	w.healthyOn("prod", "1.0.0")
}

func drift(t *testing.T, w *world) {
	args := w.gitops("drift", "--app", app, "--env", "prod")
	// the router's own code sets the canary weight of prod's route
	ro, err := w.prod.GetRollout(t.Context(), w.prod.Namespace, app)
	if err != nil {
		t.Fatal(err)
	}
	routed := ro.DeepCopy()
	routed.Spec.Strategy.Canary.StableService, routed.Spec.Strategy.Canary.CanaryService = "mllp-listener-stable", "mllp-listener-canary"
	routed.Spec.Strategy.Canary.TrafficRouting = &v1alpha1.RolloutTrafficRouting{Plugins: map[string]json.RawMessage{"nerve/mllp": json.RawMessage(`{"route":"mllp-listener"}`)}}
	if err := mllp.New(mllp.Options{Dynamic: w.prod.Dynamic}).SetWeight(t.Context(), routed, 25, nil); err != nil {
		t.Fatal(err)
	}
	r := w.n.must(0, args...)
	logOutput(t, "kubectl nerve drift (router weight only)", r)
	contains(t, r.Out, "MLLPRoute/mllp-listener", ".spec.weight", "router", "nerve-mllp-router")
	contains(t, r.Err, "no drift")

	edit := run(t.Context(), "", []string{`KUBE_EDITOR=sed -i -e 's/^  replicas: 2$/  replicas: 3/'`}, "kubectl", "edit", "rollout", app, "-n", w.prod.Namespace)
	if edit.Code != 0 {
		t.Fatalf("kubectl edit: %s", edit)
	}
	r = w.n.must(1, args...)
	logOutput(t, "kubectl nerve drift (after kubectl edit)", r)
	contains(t, r.Out, "Rollout/mllp-listener", ".spec.replicas", "3", "2", "manual", "kubectl-edit", ".spec.weight", "router")
	contains(t, r.Err, "drift: 1 field(s) differ")
	r = w.n.must(1, append(args, "-o", "json")...)
	var rep struct {
		Drifted int `json:"drifted"`
		Objects []struct {
			Kind   string `json:"kind"`
			Fields []struct {
				Path, Class, Owner string
			} `json:"fields"`
		} `json:"objects"`
	}
	if err := json.Unmarshal([]byte(r.Out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, r.Out)
	}
	classes := map[string]string{}
	for _, o := range rep.Objects {
		for _, f := range o.Fields {
			classes[o.Kind+f.Path] = f.Class + "/" + f.Owner
		}
	}
	if rep.Drifted != 1 || classes["Rollout.spec.replicas"] != "manual/kubectl-edit" || classes["MLLPRoute.spec.weight"] != "router/nerve-mllp-router" {
		t.Fatalf("drift classes %v (drifted %d)", classes, rep.Drifted)
	}
	r = w.n.must(1, append(args, "--prometheus")...)
	contains(t, r.Out, `class="manual"} 1`, `class="router"} 1`, "nerve_drift_counted{")
	// a path that does not render is an error: exit > 1
	r = w.n.must(2, "drift", filepath.Join(w.work.dir, "does-not-exist"), "-n", w.prod.Namespace)
	// the stand-in's self-heal restores replicas and keeps the router's weight
	w.sync("prod")
	r = w.n.must(0, args...)
	logOutput(t, "kubectl nerve drift (after self-heal)", r)
	route, err := w.prod.Dynamic.Resource(schema.GroupVersionResource{Group: "mllp.nerve.io", Version: "v1alpha1", Resource: "mllproutes"}).
		Namespace(w.prod.Namespace).Get(t.Context(), app, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if wgt, _, _ := unstructuredInt(route.Object, "spec", "weight"); wgt != 25 {
		t.Fatalf("a sync reset the router's weight to %d", wgt)
	}
}

func apps(t *testing.T, w *world) {
	ns := w.argo.Namespace
	writeStatus(t, w.argo, ns, "nerve-app-of-apps-e2e", map[string]any{
		"sync":         map[string]any{"status": "Synced", "revision": w.work.git("rev-parse", "origin/main")},
		"health":       map[string]any{"status": "Healthy"},
		"reconciledAt": time.Now().UTC().Format(time.RFC3339),
		"resources": []any{
			map[string]any{"group": "argoproj.io", "version": "v1alpha1", "kind": "Application", "namespace": ns, "name": "mllp-listener-staging", "status": "Synced"},
			map[string]any{"group": "argoproj.io", "version": "v1alpha1", "kind": "Application", "namespace": ns, "name": "mllp-listener-prod", "status": "Synced"},
		},
	})
	r := w.n.must(0, "apps", "--argocd-namespace", ns)
	logOutput(t, "kubectl nerve apps", r)
	contains(t, r.Out, "nerve-app-of-apps-e2e", "├──mllp-listener-staging", "└──mllp-listener-prod", "Rollout", "Degraded",
		"Application mllp-listener-staging Degraded: Rollout mllp-listener Degraded: RolloutAborted")
	writeStatus(t, w.argo, ns, "mllp-listener-prod", map[string]any{"reconciledAt": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)})
	r = w.n.must(0, "apps", "--argocd-namespace", ns)
	logOutput(t, "kubectl nerve apps (prod's status stale)", r)
	contains(t, r.Out, "(stale)", "status stale: reconciled 60m ago")
	r = w.n.must(0, "apps", "--argocd-namespace", ns, "-o", "json")
	contains(t, r.Out, `"kind": "AppTree"`, `"stale": true`)
	if !strings.Contains(r.Out, `"ownHealth": "Healthy"`) {
		t.Fatalf("json lacks ownHealth:\n%s", r.Out)
	}
}

func unstructuredInt(obj map[string]any, fields ...string) (int64, bool, error) {
	var cur any = obj
	for _, f := range fields {
		m, _ := cur.(map[string]any)
		cur = m[f]
	}
	switch v := cur.(type) {
	case int64:
		return v, true, nil
	case float64:
		return int64(v), true, nil
	}
	return 0, false, nil
}
