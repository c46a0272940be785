//go:build e2e

package gitops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// result is one command run.
type result = framework.Result

func run(ctx context.Context, dir string, env []string, name string, args ...string) result {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	return framework.RunCommand(cmd)
}

// nerve is `kubectl nerve` (the built binary on PATH as a kubectl plugin).
type nerve struct {
	t    *testing.T
	path string
	env  []string
}

func newNerve(t *testing.T) *nerve {
	dir := t.TempDir()
	if err := os.Symlink(framework.Binary(t, "kubectl-nerve"), filepath.Join(dir, "kubectl-nerve")); err != nil {
		t.Fatal(err)
	}
	return &nerve{t: t, path: dir + string(os.PathListSeparator) + os.Getenv("PATH")}
}

func (n *nerve) run(args ...string) result {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(n.t.Context(), 2*time.Minute)
	defer cancel()
	r := run(ctx, "", append([]string{"PATH=" + n.path}, n.env...), "kubectl", append([]string{"nerve"}, args...)...)
	n.t.Logf("$ kubectl nerve %s → rc=%d", strings.Join(args, " "), r.Code)
	return r
}

func (n *nerve) must(want int, args ...string) result {
	n.t.Helper()
	r := n.run(args...)
	if r.Code != want {
		n.t.Fatalf("kubectl nerve %s: want rc=%d, %s", strings.Join(args, " "), want, r)
	}
	return r
}

func contains(t *testing.T, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Fatalf("output lacks %q:\n%s", w, s)
		}
	}
}

// repo is a git working copy (a clone of a bare remote).
type repo struct {
	t   *testing.T
	dir string
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	res := run(r.t.Context(), r.dir, gitEnv(), "git", args...)
	if res.Code != 0 {
		r.t.Fatalf("git %s: %s", strings.Join(args, " "), res)
	}
	return strings.TrimSpace(res.Out)
}

func gitEnv() []string {
	return []string{"GIT_AUTHOR_NAME=nerve e2e", "GIT_AUTHOR_EMAIL=e2e@nerve.invalid", "GIT_COMMITTER_NAME=nerve e2e",
		"GIT_COMMITTER_EMAIL=e2e@nerve.invalid", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + os.TempDir()}
}

func (r *repo) write(rel, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// newRemote makes a bare remote and two clones: the user's working copy and Argo CD's.
func newRemote(t *testing.T) (remote string, work, argo *repo) {
	base := t.TempDir()
	remote = filepath.Join(base, "remote.git")
	res := run(t.Context(), base, gitEnv(), "git", "init", "--bare", "--initial-branch=main", remote)
	if res.Code != 0 {
		t.Fatal(res)
	}
	work = &repo{t: t, dir: filepath.Join(base, "work")}
	argo = &repo{t: t, dir: filepath.Join(base, "argocd")}
	for _, r := range []*repo{work, argo} {
		if res := run(t.Context(), base, gitEnv(), "git", "clone", "--quiet", remote, r.dir); res.Code != 0 {
			t.Fatal(res)
		}
		r.git("config", "user.name", "nerve e2e")
		r.git("config", "user.email", "e2e@nerve.invalid")
		r.git("config", "commit.gpgsign", "false")
		r.git("checkout", "-q", "-B", "main")
	}
	return remote, work, argo
}

// testMetric builds the e2e metric plugin and registers it in ns's argo-rollouts-config,
// reading its values from the returned directory.
func testMetric(t *testing.T, env *framework.Env, ns string) string {
	bin := framework.BuildBinary(t, "./e2e/rollout/testplugins/testmetric")
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	values := t.TempDir()
	entries, err := yaml.Marshal([]map[string]any{{"name": "e2e/metric", "location": "file://" + bin,
		"sha256": hex.EncodeToString(sum[:]), "args": []string{"--values", values}}})
	if err != nil {
		t.Fatal(err)
	}
	cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "argo-rollouts-config", "namespace": ns},
		"data":     map[string]any{"metricProviderPlugins": string(entries)}}
	out, err := json.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	env.Apply(t, string(out))
	setMetric(t, values, "0.001")
	return values
}

func setMetric(t *testing.T, values, v string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(values, "default"), []byte(v), 0o644); err != nil {
		t.Fatal(err)
	}
}

// standInArgoCDSync is a STAND-IN for Argo CD's sync, test code only: it pulls Argo CD's clone,
// renders the Application's path, server-side applies every object as argocd-controller with
// Argo CD's tracking annotation (leaving out the fields the Application's ignoreDifferences
// name when the object exists, as RespectIgnoreDifferences=true does), and writes the
// Application's status: Synced at the remote's HEAD, reconciled now, its resources, and the
// health of its Rollouts.
func standInArgoCDSync(t *testing.T, env *framework.Env, argo *repo, argoNS, app string) {
	t.Helper()
	argo.git("pull", "--quiet", "--ff-only")
	head := argo.git("rev-parse", "HEAD")
	ri := env.Dynamic.Resource(applicationGVR).Namespace(argoNS)
	a, err := ri.Get(t.Context(), app, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path, _, _ := unstructured.NestedString(a.Object, "spec", "source", "path")
	ns, _, _ := unstructured.NestedString(a.Object, "spec", "destination", "namespace")
	objs := render(t, filepath.Join(argo.dir, path))
	var resources []any
	for _, o := range objs {
		o.SetNamespace(ns)
		gvk := o.GroupVersionKind()
		ann := o.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann["argocd.argoproj.io/tracking-id"] = fmt.Sprintf("%s:%s/%s:%s/%s", app, gvk.Group, gvk.Kind, ns, o.GetName())
		o.SetAnnotations(ann)
		respectIgnoreDifferences(t, env, a, o)
		body, err := json.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		res, err := env.ResourceFor(gvk, ns)
		if err != nil {
			t.Fatal(err)
		}
		force := true
		if _, err := res.Patch(t.Context(), o.GetName(), types.ApplyPatchType, body,
			metav1.PatchOptions{FieldManager: "argocd-controller", Force: &force}); err != nil {
			t.Fatalf("stand-in sync %s: apply %s %s: %v", app, gvk.Kind, o.GetName(), err)
		}
		resources = append(resources, map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind,
			"namespace": ns, "name": o.GetName(), "status": "Synced"})
	}
	writeStatus(t, env, argoNS, app, map[string]any{
		"sync":         map[string]any{"status": "Synced", "revision": head},
		"health":       map[string]any{"status": "Healthy"},
		"reconciledAt": time.Now().UTC().Format(time.RFC3339),
		"resources":    resources,
	})
}

// respectIgnoreDifferences drops from o the JSON pointers the Application ignores when the
// live object exists (the live values stay, owned by whoever wrote them).
func respectIgnoreDifferences(t *testing.T, env *framework.Env, app, o *unstructured.Unstructured) {
	ignores, _, _ := unstructured.NestedSlice(app.Object, "spec", "ignoreDifferences")
	res, err := env.ResourceFor(o.GroupVersionKind(), o.GetNamespace())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Get(t.Context(), o.GetName(), metav1.GetOptions{}); err != nil {
		return
	}
	for _, ig := range ignores {
		m, _ := ig.(map[string]any)
		if m["kind"] != o.GetKind() {
			continue
		}
		ptrs, _ := m["jsonPointers"].([]any)
		for _, p := range ptrs {
			s, _ := p.(string)
			unstructured.RemoveNestedField(o.Object, strings.Split(strings.TrimPrefix(s, "/"), "/")...)
		}
	}
}

// writeStatus merges status into the Application (Argo CD's CRD has no status subresource).
func writeStatus(t *testing.T, env *framework.Env, ns, name string, status map[string]any) {
	t.Helper()
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Dynamic.Resource(applicationGVR).Namespace(ns).Patch(t.Context(), name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "argocd-application-controller"}); err != nil {
		t.Fatal(err)
	}
}

func render(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, r := range res.Resources() {
		m, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out
}
