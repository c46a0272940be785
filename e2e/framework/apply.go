//go:build e2e

package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
)

// FieldManager is the server-side apply field manager of the e2e tests.
const FieldManager = "nerve-e2e"

// Apply server-side applies every object of a (multi-document) YAML or JSON
// manifest, with force, and returns the applied objects as the server stored
// them. Namespaced objects without a namespace go to e.Namespace. Any kind
// the API server serves works, including CRDs installed a moment ago.
func (e *Env) Apply(t testing.TB, manifest string) []*unstructured.Unstructured {
	t.Helper()
	out, err := e.ApplyManifest(t.Context(), []byte(manifest))
	if err != nil {
		t.Fatalf("e2e: apply: %v", err)
	}
	return out
}

// ApplyFile is Apply for a manifest file.
func (e *Env) ApplyFile(t testing.TB, path string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("e2e: apply: %v", err)
	}
	out, err := e.ApplyManifest(t.Context(), b)
	if err != nil {
		t.Fatalf("e2e: apply %s: %v", path, err)
	}
	return out
}

// ApplyManifest is the error-returning form of Apply.
func (e *Env) ApplyManifest(ctx context.Context, manifest []byte) ([]*unstructured.Unstructured, error) {
	objs, err := decodeManifest(manifest)
	if err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, obj := range objs {
		applied, err := e.ApplyObject(ctx, obj)
		if err != nil {
			return out, fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		out = append(out, applied)
	}
	return out, nil
}

// ApplyObject server-side applies one object.
func (e *Env) ApplyObject(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if obj.GetNamespace() == "" {
		obj.SetNamespace(e.Namespace)
	}
	ri, namespaced, err := e.resourceFor(obj.GroupVersionKind(), obj.GetNamespace())
	if err != nil {
		return nil, err
	}
	if !namespaced {
		obj.SetNamespace("")
	}
	return ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
}

// ResourceFor maps a kind to a dynamic resource client; for namespaced kinds
// the client is bound to ns (e.Namespace when empty). Discovery is refreshed
// once on a miss, so CRDs installed a moment ago resolve.
func (e *Env) ResourceFor(gvk schema.GroupVersionKind, ns string) (dynamic.ResourceInterface, error) {
	if ns == "" {
		ns = e.Namespace
	}
	ri, _, err := e.resourceFor(gvk, ns)
	return ri, err
}

func (e *Env) resourceFor(gvk schema.GroupVersionKind, ns string) (dynamic.ResourceInterface, bool, error) {
	mapping, err := e.Mapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		e.Mapper().Reset()
		mapping, err = e.Mapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, false, err
	}
	nri := e.Dynamic.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return nri.Namespace(ns), true, nil
	}
	return nri, false, nil
}

func decodeManifest(manifest []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifest), 4096)
	var out []*unstructured.Unstructured
	for {
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("decode manifest: %w", err)
		}
		if len(raw) == 0 {
			continue
		}
		obj := &unstructured.Unstructured{Object: raw}
		if obj.GetKind() == "" || obj.GetAPIVersion() == "" {
			return nil, fmt.Errorf("manifest object without kind/apiVersion: %v", raw)
		}
		out = append(out, obj)
	}
}
