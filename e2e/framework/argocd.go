//go:build e2e

package framework

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// argoCDCRDs are the CRDs InstallArgoCDCRDs installs: Argo CD's own, vendored as data in
// manifests/vendor/argo-cd (see its README for version and licence).
var argoCDCRDs = []string{"applications.argoproj.io", "appprojects.argoproj.io", "applicationsets.argoproj.io"}

// InstallArgoCDCRDs server-side applies Argo CD's real CRDs (manifests/vendor/argo-cd) and
// waits until the API server serves them. They stay installed: other tests may use them.
func InstallArgoCDCRDs(t testing.TB) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "kubectl", "apply", "--server-side", "--force-conflicts",
		"--field-manager", FieldManager, "-f", filepath.Join(root, "manifests/vendor/argo-cd"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("e2e: install Argo CD CRDs: %v\n%s", err, out)
	}
	cfg, err := restConfig()
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	for _, name := range argoCDCRDs {
		Eventually(t, 60*time.Second, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
			u, err := crds.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return established(u), nil
		}, "CRD %s established", name)
	}
}

func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
