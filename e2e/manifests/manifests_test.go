//go:build e2e

package manifests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// kustomizations are every kustomize root of the tree we ship.
func kustomizations() []string {
	out := []string{
		"manifests/argocd", "manifests/argocd/apps/base", "manifests/argocd/apps/dev", "manifests/argocd/apps/staging",
		"manifests/argocd/apps/prod", "manifests/rbac",
		"manifests/examples/argo-rollouts-config",
		"manifests/examples/mllp-listener/base", "manifests/examples/mllp-listener/routing",
		"manifests/examples/mllp-listener/overlays/demo", "manifests/examples/mllp-listener/overlays/demo-v2",
		"manifests/examples/mllp-listener/overlays/demo-v2-bad", "manifests/examples/mllp-listener/overlays/production",
	}
	for _, env := range []string{"dev", "staging", "prod"} {
		out = append(out, "manifests/environments/"+env)
		for _, app := range childApps() {
			out = append(out, "manifests/environments/"+env+"/"+app)
		}
	}
	return out
}

// plainDirs are applied with kubectl apply -f (no kustomization).
func plainDirs() []string {
	return []string{"manifests/crds", "manifests/controller", "manifests/mllp-proxy"}
}

func childApps() []string {
	return []string{"platform-kafka", "platform-flink", "platform-storage", "platform-observability", "platform-security",
		"clinical-ingestion", "clinical-processing", "clinical-serving", "clinical-transforms"}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func kubectl(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	out, err := kubectlErr(t.Context(), stdin, args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}

func kubectlErr(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, &kubectlError{args: args, err: err, stderr: stderr.String()}
	}
	return out, nil
}

type kubectlError struct {
	args   []string
	err    error
	stderr string
}

func (e *kubectlError) Error() string {
	return "kubectl " + strings.Join(e.args, " ") + ": " + e.err.Error() + "\n" + e.stderr
}

// ensureNamespaces creates the namespaces the tree's namespaced objects live
// in (a dry-run cannot create into a missing namespace) and deletes, at the
// end, only those this test created.
func ensureNamespaces(t *testing.T, env *framework.Env, names []string) {
	t.Helper()
	for _, n := range names {
		_, err := env.Client.CoreV1().Namespaces().Get(t.Context(), n, metav1.GetOptions{})
		if err == nil {
			continue
		}
		if !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{"nerve.e2e/managed": "true"}}}
		if _, err := env.Client.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 20*time.Second)
			defer cancel()
			_ = env.Client.CoreV1().Namespaces().Delete(ctx, n, metav1.DeleteOptions{})
		})
	}
}

// TestWholeTreeServerSideDryRun renders every kustomization and applies
// every object of the tree with --dry-run=server.
func TestWholeTreeServerSideDryRun(t *testing.T) {
	root := repoRoot(t)
	env := framework.New(t)
	framework.InstallArgoCDCRDs(t)
	ensureNamespaces(t, env, append(childApps(), "argocd", "nerve-system"))
	for _, k := range kustomizations() {
		t.Run(strings.ReplaceAll(k, "/", "_"), func(t *testing.T) {
			rendered := kubectl(t, nil, "kustomize", filepath.Join(root, k))
			if len(bytes.TrimSpace(rendered)) == 0 {
				t.Fatalf("%s renders nothing", k)
			}
			out := kubectl(t, rendered, "apply", "--server-side", "--dry-run=server", "--force-conflicts",
				"--field-manager", "nerve-e2e", "-f", "-")
			t.Logf("%s: %d objects", k, bytes.Count(out, []byte("\n")))
		})
	}
	for _, d := range plainDirs() {
		t.Run(strings.ReplaceAll(d, "/", "_"), func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(root, d)); os.IsNotExist(err) {
				t.Fatalf("%s is missing", d)
			}
			kubectl(t, nil, "apply", "--server-side", "--dry-run=server", "--force-conflicts",
				"--field-manager", "nerve-e2e", "-f", filepath.Join(root, d))
		})
	}
}

type application struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name        string            `json:"name"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Project string `json:"project"`
		Source  struct {
			Path string `json:"path"`
		} `json:"source"`
		Destination struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"destination"`
		SyncPolicy struct {
			SyncOptions []string `json:"syncOptions"`
		} `json:"syncPolicy"`
	} `json:"spec"`
}

func renderApps(t *testing.T, dir string) []application {
	t.Helper()
	var out []application
	for _, doc := range bytes.Split(kubectl(t, nil, "kustomize", dir), []byte("\n---\n")) {
		var a application
		if err := yaml.Unmarshal(doc, &a); err != nil {
			t.Fatal(err)
		}
		if a.Kind == "Application" {
			out = append(out, a)
		}
	}
	return out
}

// TestAppOfApps checks the GitOps tree's shape: one root Application per environment syncs
// that environment's apps folder, which holds exactly the 9 child Applications <app>-<env>,
// each in its tier's project, deploying into its own namespace of the environment's cluster
// from manifests/environments/<env>/<app>, a path that renders.
func TestAppOfApps(t *testing.T) {
	root := repoRoot(t)
	roots := renderApps(t, filepath.Join(root, "manifests/argocd"))
	if len(roots) != 3 {
		t.Fatalf("root applications: %+v", roots)
	}
	for _, r := range roots {
		env := r.Metadata.Labels["nerve.io/environment"]
		if r.Metadata.Name != "nerve-app-of-apps-"+env || r.Spec.Source.Path != "manifests/argocd/apps/"+env {
			t.Fatalf("root application: %+v", r)
		}
		t.Run(env, func(t *testing.T) {
			checkChildren(t, root, env, renderApps(t, filepath.Join(root, r.Spec.Source.Path)))
		})
	}
}

func checkChildren(t *testing.T, root, env string, children []application) {
	var names []string
	for _, a := range children {
		app := a.Metadata.Labels["nerve.io/app"]
		names = append(names, app)
		if a.Metadata.Name != app+"-"+env || a.Metadata.Labels["nerve.io/environment"] != env {
			t.Errorf("%s: labels %v", a.Metadata.Name, a.Metadata.Labels)
		}
		if a.Spec.Destination.Namespace != app || a.Spec.Destination.Name != "nerve-"+env {
			t.Errorf("%s deploys into %+v", a.Metadata.Name, a.Spec.Destination)
		}
		if want, _, _ := strings.Cut(app, "-"); a.Spec.Project != want {
			t.Errorf("%s is in project %s, want %s", a.Metadata.Name, a.Spec.Project, want)
		}
		if a.Spec.Source.Path != "manifests/environments/"+env+"/"+app {
			t.Errorf("%s: path %s", a.Metadata.Name, a.Spec.Source.Path)
		}
		if !strings.Contains(a.Metadata.Annotations["argocd.argoproj.io/compare-options"], "ServerSideDiff=true") {
			t.Errorf("%s: ServerSideApply without ServerSideDiff", a.Metadata.Name)
		}
		rendered := kubectl(t, nil, "kustomize", filepath.Join(root, a.Spec.Source.Path))
		if !bytes.Contains(rendered, []byte("name: "+app+"\n")) {
			t.Errorf("%s: path %s does not render its namespace", a.Metadata.Name, a.Spec.Source.Path)
		}
	}
	slices.Sort(names)
	want := childApps()
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("child applications %v, want %v", names, want)
	}
}
