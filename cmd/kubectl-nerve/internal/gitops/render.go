package gitops

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Render builds a Git directory the way Argo CD does: kustomize when it holds a
// kustomization, else every YAML file of the directory (a plain directory source).
func Render(dir string) ([]*unstructured.Unstructured, error) {
	if hasKustomization(dir) {
		k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
		res, err := k.Run(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
		}
		out, err := res.AsYaml()
		if err != nil {
			return nil, err
		}
		return Decode(out)
	}
	return renderPlain(dir)
}

func hasKustomization(dir string) bool {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

func renderPlain(dir string) ([]*unstructured.Unstructured, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml") || strings.HasSuffix(e.Name(), ".json")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		objs, err := Decode(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// Decode splits a multi-document YAML or JSON stream into objects (empty documents skipped).
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if err.Error() == "EOF" {
				return out, nil
			}
			return out, err
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// Images returns the images of the Rollouts (and Deployments, StatefulSets, DaemonSets) among
// objs, sorted and deduplicated: the revision of an app across environments.
func Images(objs []*unstructured.Unstructured) []string {
	seen := map[string]bool{}
	for _, o := range objs {
		if !isWorkload(o.GetKind()) {
			continue
		}
		for _, img := range templateImages(o.Object) {
			seen[img] = true
		}
	}
	out := make([]string, 0, len(seen))
	for img := range seen {
		out = append(out, img)
	}
	sort.Strings(out)
	return out
}

func isWorkload(kind string) bool {
	switch kind {
	case "Rollout", "Deployment", "StatefulSet", "DaemonSet":
		return true
	}
	return false
}

// templateImages are the images of spec.template's containers and init containers.
func templateImages(obj map[string]any) []string {
	var out []string
	for _, field := range []string{"initContainers", "containers"} {
		list, _, _ := unstructured.NestedSlice(obj, "spec", "template", "spec", field)
		for _, c := range list {
			m, _ := c.(map[string]any)
			if img, _ := m["image"].(string); img != "" {
				out = append(out, img)
			}
		}
	}
	return out
}
