//go:build e2e

package rollout

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// TestManifestsServerSideDryRun applies the CRDs and the controller manifests (RBAC,
// Deployment, ConfigMap example) with server-side dry-run; namespaced objects go to the test
// namespace.
func TestManifestsServerSideDryRun(t *testing.T) {
	t.Parallel()
	env := framework.New(t)
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "manifests", "controller", "*.yaml"))
	for _, crd := range []string{"rollouts", "analysistemplates", "clusteranalysistemplates", "analysisruns"} {
		files = append(files, filepath.Join(root, "manifests", "crds", crd+".yaml"))
	}
	for _, f := range files {
		for _, obj := range decodeFile(t, f) {
			if obj.GetKind() == "Namespace" {
				continue
			}
			if obj.GetNamespace() != "" {
				obj.SetNamespace(env.Namespace)
			}
			ri, err := env.ResourceFor(obj.GroupVersionKind(), env.Namespace)
			if err != nil {
				t.Fatalf("%s %s: %v", obj.GetKind(), obj.GetName(), err)
			}
			_, err = ri.Apply(t.Context(), obj.GetName(), obj, metav1.ApplyOptions{FieldManager: framework.FieldManager, Force: true, DryRun: []string{metav1.DryRunAll}})
			if err != nil {
				t.Errorf("%s: %s %s: %v", filepath.Base(f), obj.GetKind(), obj.GetName(), err)
			}
		}
	}
}

func decodeFile(t *testing.T, path string) []*unstructured.Unstructured {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*unstructured.Unstructured
	for {
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("%s: %v", path, err)
		}
		if len(raw) > 0 {
			out = append(out, &unstructured.Unstructured{Object: raw})
		}
	}
}
