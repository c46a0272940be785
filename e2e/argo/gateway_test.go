//go:build e2e

package argo

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/router/gatewayapi"
)

// httpRouteYAML is an HTTPRoute on Gateway "gw" that sends everything to app's stable Service.
func httpRouteYAML(app string) string {
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: %[1]s}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs:
    - {name: %[1]s-stable, port: %[2]d, weight: 100}
    - {name: %[1]s-canary, port: %[2]d, weight: 0}
`, app, podPort)
}

// canaryBackendWeight reads the weight of app's canary backendRef in the first rule.
func canaryBackendWeight(app string) func(*unstructured.Unstructured) (int32, error) {
	return func(u *unstructured.Unstructured) (int32, error) {
		rules, _, err := unstructured.NestedSlice(u.Object, "spec", "rules")
		if err != nil || len(rules) == 0 {
			return 0, fmt.Errorf("no rules: %v", err)
		}
		refs, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "backendRefs")
		for _, r := range refs {
			ref := r.(map[string]any)
			if ref["name"] == app+"-canary" {
				w, _, err := unstructured.NestedInt64(ref, "weight")
				return int32(w), err
			}
		}
		return 0, fmt.Errorf("no backendRef %s-canary", app)
	}
}

// runGateway runs the gated canary routed by nerve/gatewayAPI on an HTTPRoute (the test plays
// the Gateway: it accepts every generation) under one controller.
func runGateway(t *testing.T, kind controllerKind, c analysisCase) outcome {
	t.Helper()
	s := newSuite(t, kind, routerPlugin{name: gatewayapi.DefaultPluginName, binary: "nerve-gatewayapi"})
	s.gate(c.value)
	s.services("web")
	s.env.Apply(t, httpRouteYAML("web"))
	ri, err := s.env.ResourceFor(schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"}, s.ns)
	if err != nil {
		t.Fatal(err)
	}
	framework.KeepAccepting(t, ri, "web")
	weights := s.recordWeights(ri, "web", canaryBackendWeight("web"))
	s.env.Apply(t, routedRolloutYAML("web", gatewayapi.DefaultPluginName, fmt.Sprintf(`{httpRoute: web, namespace: %s}`, s.ns)))
	return s.runRouted("web", c, weights, routedHooks{})
}

// TestGatewayAPIRouterArgoVsNerve: nerve's Gateway API router plugin, loaded by the real Argo
// controller (file:// + sha256 from argo-rollouts-config) and by nerve's loop, shifts an
// HTTPRoute 0 → 25 → (analysis) → 50 → 100 → 0 for a good gauge and 0 → 25 → 0 for a bad one, with the
// same weights, phases and messages under both controllers.
func TestGatewayAPIRouterArgoVsNerve(t *testing.T) {
	compareOutcomes(t, false, gateCases(), runGateway)
}
