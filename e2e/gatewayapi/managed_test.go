//go:build e2e

package gatewayapi

import (
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

func rule(r *gatewayv1.HTTPRoute, name string) *gatewayv1.HTTPRouteRule {
	for i := range r.Spec.Rules {
		if r.Spec.Rules[i].Name != nil && string(*r.Spec.Rules[i].Name) == name {
			return &r.Spec.Rules[i]
		}
	}
	return nil
}

func TestHeaderAndMirrorRoutesAddedAndRemoved(t *testing.T) {
	h := setup(t, "--verifyWait=0s")
	h.env.Apply(t, webRoute)
	managed := []string{"canary-header", "beta-header", "mirror"}
	// Everything but the weighted rule and the managed rules must stay byte for byte.
	skip := append(append([]string{}, weightedRules...), managed...)
	unmanaged := h.rulesJSON(t, "HTTPRoute", "web", skip...)
	ro := h.rollout(`{"httpRoute":"web"}`, managed...)
	ctx := t.Context()

	if err := h.router.SetWeight(ctx, ro, 10, nil); err != nil {
		t.Fatal(err)
	}
	// Two header routes on the same header coexist (argoproj-labs#215).
	exact := &v1alpha1.SetHeaderRoute{Name: "canary-header", Match: []v1alpha1.HeaderRoutingMatch{{HeaderName: "x-canary", HeaderValue: &v1alpha1.StringMatch{Exact: "yes"}}}}
	prefix := &v1alpha1.SetHeaderRoute{Name: "beta-header", Match: []v1alpha1.HeaderRoutingMatch{{HeaderName: "x-canary", HeaderValue: &v1alpha1.StringMatch{Prefix: "beta."}}}}
	for _, hr := range []*v1alpha1.SetHeaderRoute{exact, prefix} {
		if err := h.router.SetHeaderRoute(ctx, ro, hr); err != nil {
			t.Fatalf("SetHeaderRoute %s: %v", hr.Name, err)
		}
	}
	pct := int32(20)
	mirror := &v1alpha1.SetMirrorRoute{Name: "mirror", Percentage: &pct, Match: []v1alpha1.RouteMatch{{
		Method: &v1alpha1.StringMatch{Exact: "GET"}, Path: &v1alpha1.StringMatch{Prefix: "/fhir"},
		Headers: map[string]v1alpha1.StringMatch{"x-mirror": {Regex: "^on|yes$"}},
	}}}
	if err := h.router.SetMirrorRoute(ctx, ro, mirror); err != nil {
		t.Fatalf("SetMirrorRoute: %v", err)
	}

	route := h.httpRoute(t, "web")
	e, p, m := rule(route, "canary-header"), rule(route, "beta-header"), rule(route, "mirror")
	if e == nil || p == nil || m == nil {
		t.Fatalf("managed rules missing: %s", h.rulesJSON(t, "HTTPRoute", "web"))
	}
	if hm := e.Matches[0].Headers[0]; *hm.Type != gatewayv1.HeaderMatchExact || hm.Value != "yes" || len(e.BackendRefs) != 1 || e.BackendRefs[0].Name != canarySvc {
		t.Fatalf("exact header rule: %+v", e)
	}
	if hm := p.Matches[0].Headers[0]; *hm.Type != gatewayv1.HeaderMatchRegularExpression || hm.Value != `^beta\..*` {
		t.Fatalf("prefix header rule: %+v", hm)
	}
	f := m.Filters[len(m.Filters)-1]
	if f.Type != gatewayv1.HTTPRouteFilterRequestMirror || f.RequestMirror.BackendRef.Name != canarySvc || f.RequestMirror.Percent == nil || *f.RequestMirror.Percent != 20 {
		t.Fatalf("mirror filter: %+v", f)
	}
	if mm := m.Matches[0]; *mm.Method != "GET" || *mm.Path.Value != "/fhir" || mm.Headers[0].Name != "x-mirror" {
		t.Fatalf("mirror match: %+v", mm)
	}
	if got := weights(route, len(route.Spec.Rules)-1); got[stableSvc] != "90" || got[canarySvc] != "10" {
		t.Fatalf("mirror rule weights %v, want the weighted rule's 90/10", got)
	}
	if got := h.rulesJSON(t, "HTTPRoute", "web", skip...); got != unmanaged {
		t.Fatalf("unmanaged rules changed:\nbefore %s\nafter  %s", unmanaged, got)
	}

	// The new rules are a new generation: not verified until the Gateway accepts it.
	mustVerify(t, h.router, ro, 10, plugins.NotVerified)
	h.accept(t, "HTTPRoute", "web")
	mustVerify(t, h.router, ro, 10, plugins.Verified)

	// Repeating the steps writes nothing.
	rv := h.httpRoute(t, "web").ResourceVersion
	for _, hr := range []*v1alpha1.SetHeaderRoute{exact, prefix} {
		if err := h.router.SetHeaderRoute(ctx, ro, hr); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.router.SetMirrorRoute(ctx, ro, mirror); err != nil {
		t.Fatal(err)
	}
	if got := h.httpRoute(t, "web").ResourceVersion; got != rv {
		t.Fatalf("repeated managed-route calls wrote (resourceVersion %s -> %s)", rv, got)
	}

	// A canary scaled to 0 (weight 0) keeps its header routes until RemoveManagedRoutes.
	if err := h.router.SetWeight(ctx, ro, 0, nil); err != nil {
		t.Fatal(err)
	}
	if route := h.httpRoute(t, "web"); rule(route, "canary-header") == nil || rule(route, "beta-header") == nil {
		t.Fatal("weight 0 removed the header routes")
	}

	// A setHeaderRoute without match removes only its own rule.
	if err := h.router.SetHeaderRoute(ctx, ro, &v1alpha1.SetHeaderRoute{Name: "beta-header"}); err != nil {
		t.Fatal(err)
	}
	if route := h.httpRoute(t, "web"); rule(route, "beta-header") != nil || rule(route, "canary-header") == nil {
		t.Fatalf("removing beta-header: %s", h.rulesJSON(t, "HTTPRoute", "web"))
	}

	if err := h.router.RemoveManagedRoutes(ctx, ro); err != nil {
		t.Fatal(err)
	}
	route = h.httpRoute(t, "web")
	for _, n := range managed {
		if rule(route, n) != nil {
			t.Fatalf("managed rule %s left after RemoveManagedRoutes", n)
		}
	}
	if len(route.Spec.Rules) != 4 {
		t.Fatalf("%d rules after RemoveManagedRoutes, want the original 4", len(route.Spec.Rules))
	}
	if got := h.rulesJSON(t, "HTTPRoute", "web", skip...); got != unmanaged {
		t.Fatalf("unmanaged rules changed:\nbefore %s\nafter  %s", unmanaged, got)
	}
}
