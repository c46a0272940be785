//go:build e2e

package gatewayapi

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

// otherRoutes are a GRPCRoute, a TCPRoute and a TLSRoute (all gateway.networking.k8s.io/v1),
// each with a weighted rule and a rule or backendRef nerve must leave alone. They start at weight
// 0, so after a canary and its abort every route must be byte for byte what it was.
const otherRoutes = `
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: store}
spec:
  parentRefs: [{name: gw}]
  rules:
  - name: store
    matches: [{method: {service: fhir.Store}}]
    backendRefs:
    - {name: web-stable, port: 9000, weight: 100}
    - {name: web-canary, port: 9000, weight: 0}
  - name: health
    matches: [{method: {service: grpc.health.v1.Health}}]
    backendRefs:
    - {name: health, port: 9000}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: mllp}
spec:
  parentRefs: [{name: gw, sectionName: mllp}]
  rules:                               # v1 allows one rule; "legacy" is a backendRef nerve leaves alone
  - name: weighted
    backendRefs:
    - {name: web-stable, port: 2575, weight: 100}
    - {name: web-canary, port: 2575, weight: 0}
    - {name: legacy, port: 2575, weight: 3}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: mllps}
spec:
  parentRefs: [{name: gw, sectionName: mllps}]
  hostnames: [mllp.example.org]
  rules:
  - name: weighted
    backendRefs:
    - {name: web-stable, port: 2576, weight: 100}
    - {name: web-canary, port: 2576, weight: 0}
    - {name: legacy, port: 2576, weight: 3}
`

func TestGRPCTCPTLSRoutes(t *testing.T) {
	h := setup(t, "--verifyWait=0s")
	h.env.Apply(t, otherRoutes)
	kinds := map[string]string{"GRPCRoute": "store", "TCPRoute": "mllp", "TLSRoute": "mllps"}
	before := map[string]string{}
	for kind, name := range kinds {
		before[kind] = h.rulesJSON(t, kind, name)
	}
	ro := h.rollout(`{"grpcRoute":"store","tcpRoutes":[{"name":"mllp"}],"tlsRoutes":[{"name":"mllps"}]}`, "hdr")
	ctx := t.Context()

	for _, w := range []int32{25, 0} {
		if err := h.router.SetWeight(ctx, ro, w, nil); err != nil {
			t.Fatalf("SetWeight(%d): %v", w, err)
		}
		want := fmt.Sprint([]int32{100 - w, w})
		want3 := fmt.Sprint([]int32{100 - w, w, 3})
		g, err := h.gw.GatewayV1().GRPCRoutes(h.env.Namespace).Get(ctx, "store", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(refWeights(grpcRefs(g.Spec.Rules[0].BackendRefs))); got != want {
			t.Fatalf("GRPCRoute weights %s, want %s", got, want)
		}
		tcp, err := h.gw.GatewayV1().TCPRoutes(h.env.Namespace).Get(ctx, "mllp", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(refWeights(tcp.Spec.Rules[0].BackendRefs)); got != want3 {
			t.Fatalf("TCPRoute weights %s, want %s", got, want3)
		}
		tls, err := h.gw.GatewayV1().TLSRoutes(h.env.Namespace).Get(ctx, "mllps", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(refWeights(tls.Spec.Rules[0].BackendRefs)); got != want3 {
			t.Fatalf("TLSRoute weights %s, want %s", got, want3)
		}

		// Verified only once every route's Gateway accepted the new generation.
		mustVerify(t, h.router, ro, w, plugins.NotVerified)
		h.accept(t, "GRPCRoute", "store")
		h.accept(t, "TCPRoute", "mllp")
		mustVerify(t, h.router, ro, w, plugins.NotVerified)
		h.accept(t, "TLSRoute", "mllps")
		mustVerify(t, h.router, ro, w, plugins.Verified)
	}

	// Header routes go to the GRPCRoute (grpcRoute takes them); TCP/TLS have no headers.
	hr := &v1alpha1.SetHeaderRoute{Name: "hdr", Match: []v1alpha1.HeaderRoutingMatch{{HeaderName: "x-tenant", HeaderValue: &v1alpha1.StringMatch{Regex: "^test-[0-9]+$"}}}}
	if err := h.router.SetHeaderRoute(ctx, ro, hr); err != nil {
		t.Fatal(err)
	}
	g, err := h.gw.GatewayV1().GRPCRoutes(h.env.Namespace).Get(ctx, "store", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := g.Spec.Rules[len(g.Spec.Rules)-1]
	if last.Name == nil || *last.Name != "hdr" || *last.Matches[0].Headers[0].Type != gatewayv1.GRPCHeaderMatchRegularExpression || *last.Matches[0].Method.Service != "fhir.Store" {
		t.Fatalf("GRPC header rule: %+v", last)
	}
	if err := h.router.RemoveManagedRoutes(ctx, ro); err != nil {
		t.Fatal(err)
	}
	for kind, name := range kinds {
		if got := h.rulesJSON(t, kind, name); got != before[kind] {
			t.Fatalf("%s rules differ after the canary was aborted:\nbefore %s\nafter  %s", kind, before[kind], got)
		}
	}
}

func grpcRefs(refs []gatewayv1.GRPCBackendRef) []gatewayv1.BackendRef {
	out := make([]gatewayv1.BackendRef, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.BackendRef)
	}
	return out
}

func refWeights(refs []gatewayv1.BackendRef) []int32 {
	out := make([]int32, 0, len(refs))
	for _, r := range refs {
		w := int32(-1)
		if r.Weight != nil {
			w = *r.Weight
		}
		out = append(out, w)
	}
	return out
}
