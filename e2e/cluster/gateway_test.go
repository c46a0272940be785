//go:build e2e

package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

func TestGatewayAPIStandardCRDsServed(t *testing.T) {
	env := framework.New(t)
	for _, kind := range []string{"Gateway", "GatewayClass", "HTTPRoute", "GRPCRoute"} {
		gvk := schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: kind}
		if _, err := env.ResourceFor(gvk, ""); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
	}
}

func TestHTTPRouteWeightedBackendsCanBePatched(t *testing.T) {
	env := framework.New(t)
	env.Apply(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: canary
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs:
    - {name: stable, port: 80, weight: 100}
    - {name: canary, port: 80, weight: 0}
`)
	ri, err := env.ResourceFor(schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"}, "")
	if err != nil {
		t.Fatal(err)
	}
	patch := []byte(`[{"op":"replace","path":"/spec/rules/0/backendRefs/0/weight","value":80},` +
		`{"op":"replace","path":"/spec/rules/0/backendRefs/1/weight","value":20}]`)
	if _, err := ri.Patch(t.Context(), "canary", types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("patch weights: %v", err)
	}
	got, err := ri.Get(t.Context(), "canary", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := weights(t, got); fmt.Sprint(w) != "[80 20]" {
		t.Fatalf("weights after patch %v, want [80 20]", w)
	}

	// The API server validates the CRD schema: a negative weight is refused.
	bad := []byte(`[{"op":"replace","path":"/spec/rules/0/backendRefs/0/weight","value":-1}]`)
	if _, err := ri.Patch(t.Context(), "canary", types.JSONPatchType, bad, metav1.PatchOptions{}); err == nil {
		t.Fatal("negative weight accepted, want a validation error")
	}
}

func weights(t *testing.T, route *unstructured.Unstructured) []int64 {
	t.Helper()
	rules, _, err := unstructured.NestedSlice(route.Object, "spec", "rules")
	if err != nil || len(rules) == 0 {
		t.Fatalf("route rules: %v (%d rules)", err, len(rules))
	}
	rule, ok := rules[0].(map[string]any)
	if !ok {
		t.Fatalf("rule is %T", rules[0])
	}
	refs, _, err := unstructured.NestedSlice(rule, "backendRefs")
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, r := range refs {
		m, ok := r.(map[string]any)
		if !ok {
			t.Fatalf("backendRef is %T", r)
		}
		w, _, err := unstructured.NestedInt64(m, "weight")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, w)
	}
	return out
}

func TestCRDStatusSubresource(t *testing.T) {
	env := framework.New(t)
	group := env.Namespace + ".e2e.nerve.dev"
	crdName := "widgets." + group
	env.Apply(t, fmt.Sprintf(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %[1]s
spec:
  group: %[2]s
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties: {size: {type: integer}}
          status:
            type: object
            properties: {phase: {type: string}}
`, crdName, group))
	crds, err := env.ResourceFor(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 30*time.Second)
		defer cancel()
		if err := crds.Delete(ctx, crdName, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete CRD: %v", err)
		}
	})
	framework.Eventually(t, 30*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		crd, err := crds.Get(ctx, crdName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	}, "CRD %s Established", crdName)

	env.Apply(t, fmt.Sprintf("apiVersion: %s/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n", group))
	widgets, err := env.ResourceFor(schema.GroupVersionKind{Group: group, Version: "v1", Kind: "Widget"}, "")
	if err != nil {
		t.Fatal(err)
	}
	w, err := widgets.Get(t.Context(), "w1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// With the status subresource, status written through the main resource is dropped ...
	if err := unstructured.SetNestedField(w.Object, "Ignored", "status", "phase"); err != nil {
		t.Fatal(err)
	}
	w, err = widgets.Update(t.Context(), w, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if phase, _, _ := unstructured.NestedString(w.Object, "status", "phase"); phase != "" {
		t.Fatalf("status.phase %q written through the main resource, want dropped", phase)
	}
	// ... and written through /status.
	if err := unstructured.SetNestedField(w.Object, "Ready", "status", "phase"); err != nil {
		t.Fatal(err)
	}
	w, err = widgets.UpdateStatus(t.Context(), w, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	if phase, _, _ := unstructured.NestedString(w.Object, "status", "phase"); phase != "Ready" {
		t.Fatalf("status.phase %q after UpdateStatus, want Ready", phase)
	}
	if size, _, _ := unstructured.NestedInt64(w.Object, "spec", "size"); size != 3 {
		t.Fatalf("spec.size %d, want 3", size)
	}
}
