package gatewayapi

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

func headerRoute(name, header string, sm v1alpha1.StringMatch) *v1alpha1.SetHeaderRoute {
	return &v1alpha1.SetHeaderRoute{Name: name, Match: []v1alpha1.HeaderRoutingMatch{{HeaderName: header, HeaderValue: &sm}}}
}

func TestHeaderRouteMatchTypes(t *testing.T) {
	cases := []struct {
		sm        v1alpha1.StringMatch
		wantType  gatewayv1.HeaderMatchType
		wantValue string
	}{
		{v1alpha1.StringMatch{Exact: "beta"}, gatewayv1.HeaderMatchExact, "beta"},
		{v1alpha1.StringMatch{Prefix: "v1.2+"}, gatewayv1.HeaderMatchRegularExpression, `^v1\.2\+.*`},
		{v1alpha1.StringMatch{Regex: "^(a|b)$"}, gatewayv1.HeaderMatchRegularExpression, "^(a|b)$"},
	}
	for _, tc := range cases {
		f := newFixture(t, httpRoute(routeName, weightedHTTPRule("main")))
		ro := rollout(httpCfg, "hdr")
		if err := f.r.SetHeaderRoute(context.Background(), ro, headerRoute("hdr", headerName, tc.sm)); err != nil {
			t.Fatal(err)
		}
		rule := ruleByName(f.http(t, routeName).Spec.Rules, "hdr")
		if rule == nil {
			t.Fatal("no managed rule named hdr")
		}
		hs := rule.Matches[0].Headers
		if len(hs) != 1 || *hs[0].Type != tc.wantType || hs[0].Value != tc.wantValue || string(hs[0].Name) != headerName {
			t.Fatalf("%+v: headers %s", tc.sm, mustJSON(t, hs))
		}
		if p := rule.Matches[0].Path; p == nil || *p.Value != "/fhir" {
			t.Fatalf("source match not kept: %s", mustJSON(t, rule.Matches))
		}
		if len(rule.BackendRefs) != 1 || rule.BackendRefs[0].Name != canarySvc || *rule.BackendRefs[0].Weight != 1 {
			t.Fatalf("backendRefs: %s", mustJSON(t, rule.BackendRefs))
		}
	}
}

func TestHeaderRoutesSameHeaderCoexistAndUnmanagedRulesSurvive(t *testing.T) {
	ctx := context.Background()
	rules := append([]gatewayv1.HTTPRouteRule{weightedHTTPRule("main")}, unmanagedHTTPRules()...)
	f := newFixture(t, httpRoute(routeName, rules...))
	unmanaged := func() string {
		var out []gatewayv1.HTTPRouteRule
		for _, r := range f.http(t, routeName).Spec.Rules {
			if n := ruleName(r.Name); n != "canary" && n != "beta" {
				out = append(out, r)
			}
		}
		return mustJSON(t, out)
	}
	before := unmanaged()
	// "canary-users" (an unmanaged rule) looks like a derivative of managed route "canary" but
	// is not: only "canary" and "canary-<n>" belong to it.
	ro := rollout(httpCfg, "canary", "beta")

	if err := f.r.SetHeaderRoute(ctx, ro, headerRoute("canary", headerName, v1alpha1.StringMatch{Exact: "1"})); err != nil {
		t.Fatal(err)
	}
	if err := f.r.SetHeaderRoute(ctx, ro, headerRoute("beta", headerName, v1alpha1.StringMatch{Exact: "beta"})); err != nil {
		t.Fatal(err)
	}
	got := f.http(t, routeName).Spec.Rules
	if ruleByName(got, "canary") == nil || ruleByName(got, "beta") == nil {
		t.Fatalf("both header routes on %s must coexist: %s", headerName, mustJSON(t, got))
	}
	if unmanaged() != before {
		t.Fatalf("unmanaged rules changed:\nbefore %s\nafter  %s", before, unmanaged())
	}

	// Idempotent: repeating the calls writes nothing.
	n := f.patches()
	for range 2 {
		if err := f.r.SetHeaderRoute(ctx, ro, headerRoute("canary", headerName, v1alpha1.StringMatch{Exact: "1"})); err != nil {
			t.Fatal(err)
		}
	}
	if f.patches() != n {
		t.Fatal("repeated SetHeaderRoute wrote")
	}

	// Updating one header route replaces only its rule.
	if err := f.r.SetHeaderRoute(ctx, ro, headerRoute("canary", headerName, v1alpha1.StringMatch{Exact: "2"})); err != nil {
		t.Fatal(err)
	}
	got = f.http(t, routeName).Spec.Rules
	if v := ruleByName(got, "canary").Matches[0].Headers[0].Value; v != "2" {
		t.Fatalf("canary header value = %q", v)
	}
	if v := ruleByName(got, "beta").Matches[0].Headers[0].Value; v != "beta" {
		t.Fatalf("beta header route changed: %q", v)
	}

	// Header routes survive weight changes, including back to 0 (a canary without pods).
	for _, w := range []int32{10, 0} {
		if err := f.r.SetWeight(ctx, ro, w, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.http(t, routeName).Spec.Rules; ruleByName(got, "canary") == nil || ruleByName(got, "beta") == nil {
		t.Fatal("SetWeight removed header routes")
	}

	// A setHeaderRoute without match removes only that route's rules.
	if err := f.r.SetHeaderRoute(ctx, ro, &v1alpha1.SetHeaderRoute{Name: "beta"}); err != nil {
		t.Fatal(err)
	}
	if got := f.http(t, routeName).Spec.Rules; ruleByName(got, "canary") == nil || ruleByName(got, "beta") != nil {
		t.Fatalf("removing beta: %s", mustJSON(t, got))
	}

	if err := f.r.RemoveManagedRoutes(ctx, ro); err != nil {
		t.Fatal(err)
	}
	got = f.http(t, routeName).Spec.Rules
	if len(got) != len(rules) || ruleByName(got, "canary") != nil {
		t.Fatalf("after RemoveManagedRoutes: %s", mustJSON(t, got))
	}
	if unmanaged() != before {
		t.Fatalf("unmanaged rules changed:\nbefore %s\nafter  %s", before, unmanaged())
	}
	n = f.patches()
	if err := f.r.RemoveManagedRoutes(ctx, ro); err != nil {
		t.Fatal(err)
	}
	if f.patches() != n {
		t.Fatal("RemoveManagedRoutes with nothing to remove wrote")
	}
}

func TestHeaderRoutePerSourceRule(t *testing.T) {
	second := weightedHTTPRule("api")
	second.Matches[0].Path.Value = ptr("/api")
	second.Filters = []gatewayv1.HTTPRouteFilter{{Type: gatewayv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gatewayv1.HTTPHeaderFilter{Set: []gatewayv1.HTTPHeader{{Name: "x-api", Value: "1"}}}}}
	f := newFixture(t, httpRoute(routeName, weightedHTTPRule("main"), second))
	ro := rollout(httpCfg, "hdr")
	if err := f.r.SetHeaderRoute(context.Background(), ro, headerRoute("hdr", headerName, v1alpha1.StringMatch{Exact: "1"})); err != nil {
		t.Fatal(err)
	}
	got := f.http(t, routeName).Spec.Rules
	a, b := ruleByName(got, "hdr"), ruleByName(got, "hdr-1")
	if a == nil || b == nil || len(got) != 4 {
		t.Fatalf("want hdr and hdr-1: %s", mustJSON(t, got))
	}
	if *b.Matches[0].Path.Value != "/api" || len(b.Filters) != 1 {
		t.Fatalf("hdr-1 does not follow its source rule: %s", mustJSON(t, b))
	}
	if err := f.r.RemoveManagedRoutes(context.Background(), ro); err != nil {
		t.Fatal(err)
	}
	if got := f.http(t, routeName).Spec.Rules; len(got) != 2 {
		t.Fatalf("after remove: %s", mustJSON(t, got))
	}
}

func TestHeaderRouteValidation(t *testing.T) {
	f := newFixture(t, httpRoute(routeName, weightedHTTPRule("main")))
	ro := rollout(httpCfg, "hdr", "Bad_Name")
	cases := map[string]struct {
		hr   *v1alpha1.SetHeaderRoute
		want string
	}{
		"not managed":  {headerRoute("other", "x", v1alpha1.StringMatch{Exact: "1"}), "not listed in spec.strategy.canary.trafficRouting.managedRoutes"},
		"invalid name": {headerRoute("Bad_Name", "x", v1alpha1.StringMatch{Exact: "1"}), "cannot name a Gateway API rule"},
		"no value":     {&v1alpha1.SetHeaderRoute{Name: "hdr", Match: []v1alpha1.HeaderRoutingMatch{{HeaderName: "x"}}}, "no headerValue"},
		"empty value":  {headerRoute("hdr", "x", v1alpha1.StringMatch{}), "must set exact, prefix or regex"},
		"bad regex":    {headerRoute("hdr", "x", v1alpha1.StringMatch{Regex: "("}), "invalid regex"},
		"same header twice": {&v1alpha1.SetHeaderRoute{Name: "hdr", Match: []v1alpha1.HeaderRoutingMatch{
			{HeaderName: "x", HeaderValue: &v1alpha1.StringMatch{Exact: "1"}}, {HeaderName: "X", HeaderValue: &v1alpha1.StringMatch{Exact: "2"}}}}, "matched twice"},
	}
	for name, tc := range cases {
		if err := f.r.SetHeaderRoute(context.Background(), ro, tc.hr); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	if f.patches() != 0 {
		t.Fatal("invalid header routes wrote")
	}
}

func TestHeaderRoutesOnlyOnRoutesThatTakeThem(t *testing.T) {
	f := newFixture(t, httpRoute("a", weightedHTTPRule("main")), httpRoute("b", weightedHTTPRule("main")))
	ro := rollout(`{"httpRoutes":[{"name":"a","useHeaderRoutes":true},{"name":"b"}]}`, "hdr")
	if err := f.r.SetHeaderRoute(context.Background(), ro, headerRoute("hdr", "x", v1alpha1.StringMatch{Exact: "1"})); err != nil {
		t.Fatal(err)
	}
	if ruleByName(f.http(t, "a").Spec.Rules, "hdr") == nil {
		t.Fatal("route a takes header routes")
	}
	if ruleByName(f.http(t, "b").Spec.Rules, "hdr") != nil {
		t.Fatal("route b does not take header routes")
	}
}

func TestGRPCRouteWeightsAndHeaderRoutes(t *testing.T) {
	ctx := context.Background()
	grpcBackend := func(name string) gatewayv1.GRPCBackendRef {
		return gatewayv1.GRPCBackendRef{BackendRef: backend(name, nil)}
	}
	weighted := gatewayv1.GRPCRouteRule{
		Matches:     []gatewayv1.GRPCRouteMatch{{Method: &gatewayv1.GRPCMethodMatch{Type: ptr(gatewayv1.GRPCMethodMatchExact), Service: ptr("fhir.Store")}}},
		BackendRefs: []gatewayv1.GRPCBackendRef{grpcBackend(stableSvc), grpcBackend(canarySvc)},
	}
	other := gatewayv1.GRPCRouteRule{Name: ptr(gatewayv1.SectionName("health")), BackendRefs: []gatewayv1.GRPCBackendRef{grpcBackend("health")}}
	g := &gatewayv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Name: "store", Namespace: testNS}, Spec: gatewayv1.GRPCRouteSpec{Rules: []gatewayv1.GRPCRouteRule{weighted, other}}}
	f := newFixture(t, g)
	before := mustJSON(t, other)
	ro := rollout(`{"grpcRoute":"store"}`, "hdr")
	if err := f.r.SetWeight(ctx, ro, 50, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.r.SetHeaderRoute(ctx, ro, headerRoute("hdr", "x-tenant", v1alpha1.StringMatch{Prefix: "test-"})); err != nil {
		t.Fatal(err)
	}
	got := f.grpc(t, "store").Spec.Rules
	if *got[0].BackendRefs[0].Weight != 50 || *got[0].BackendRefs[1].Weight != 50 {
		t.Fatalf("grpc weights: %s", mustJSON(t, got[0]))
	}
	if mustJSON(t, got[1]) != before {
		t.Fatalf("unmanaged grpc rule changed: %s", mustJSON(t, got[1]))
	}
	if len(got) != 3 || ruleName(got[2].Name) != "hdr" {
		t.Fatalf("grpc header rule: %s", mustJSON(t, got))
	}
	h := got[2].Matches[0]
	if *h.Method.Service != "fhir.Store" || len(h.Headers) != 1 || *h.Headers[0].Type != gatewayv1.GRPCHeaderMatchRegularExpression || h.Headers[0].Value != "^test-.*" {
		t.Fatalf("grpc header match: %s", mustJSON(t, h))
	}
	// Mirror routes are HTTP only: a GRPCRoute is skipped without error.
	if err := f.r.SetMirrorRoute(ctx, ro, &v1alpha1.SetMirrorRoute{Name: "hdr", Match: []v1alpha1.RouteMatch{{Path: &v1alpha1.StringMatch{Prefix: "/"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := f.r.RemoveManagedRoutes(ctx, ro); err != nil {
		t.Fatal(err)
	}
	if got := f.grpc(t, "store").Spec.Rules; len(got) != 2 {
		t.Fatalf("grpc after remove: %s", mustJSON(t, got))
	}
}

func TestMirrorRoute(t *testing.T) {
	ctx := context.Background()
	rules := append([]gatewayv1.HTTPRouteRule{weightedHTTPRule("main")}, unmanagedHTTPRules()...)
	f := newFixture(t, httpRoute(routeName, rules...))
	before := mustJSON(t, rules[1:])
	ro := rollout(httpCfg, "mirror")
	if err := f.r.SetWeight(ctx, ro, 10, nil); err != nil {
		t.Fatal(err)
	}
	mr := &v1alpha1.SetMirrorRoute{Name: "mirror", Percentage: ptr(int32(35)), Match: []v1alpha1.RouteMatch{{
		Method:  &v1alpha1.StringMatch{Exact: "post"},
		Path:    &v1alpha1.StringMatch{Prefix: "/fhir/Patient"},
		Headers: map[string]v1alpha1.StringMatch{"x-b": {Regex: "b+"}, "x-a": {Exact: "a"}},
	}}}
	if err := f.r.SetMirrorRoute(ctx, ro, mr); err != nil {
		t.Fatal(err)
	}
	rule := ruleByName(f.http(t, routeName).Spec.Rules, "mirror")
	if rule == nil {
		t.Fatal("no mirror rule")
	}
	m := rule.Matches[0]
	if *m.Method != "POST" || *m.Path.Type != gatewayv1.PathMatchPathPrefix || *m.Path.Value != "/fhir/Patient" || len(m.Headers) != 2 || m.Headers[0].Name != "x-a" {
		t.Fatalf("mirror match: %s", mustJSON(t, m))
	}
	last := rule.Filters[len(rule.Filters)-1]
	if last.Type != gatewayv1.HTTPRouteFilterRequestMirror || last.RequestMirror.BackendRef.Name != canarySvc || *last.RequestMirror.Percent != 35 {
		t.Fatalf("mirror filter: %s", mustJSON(t, rule.Filters))
	}
	if s, c := weightsOf(t, *rule); s != 90 || c != 10 {
		t.Fatalf("mirror rule weights %d/%d, want the source's 90/10", s, c)
	}
	n := f.patches()
	if err := f.r.SetMirrorRoute(ctx, ro, mr); err != nil {
		t.Fatal(err)
	}
	if f.patches() != n {
		t.Fatal("repeated SetMirrorRoute wrote")
	}
	// The mirror rule's weights follow SetWeight, so it does not pin traffic to stable.
	if err := f.r.SetWeight(ctx, ro, 40, nil); err != nil {
		t.Fatal(err)
	}
	if s, c := weightsOf(t, *ruleByName(f.http(t, routeName).Spec.Rules, "mirror")); s != 60 || c != 40 {
		t.Fatalf("mirror rule weights after SetWeight: %d/%d", s, c)
	}
	if v, err := f.r.Verify(ctx, ro, 40, nil); err != nil || strings.Contains(v.Message(), "weight") {
		t.Fatalf("verify with mirror rule: %+v %v", v, err)
	}
	if err := f.r.SetMirrorRoute(ctx, ro, &v1alpha1.SetMirrorRoute{Name: "mirror"}); err != nil {
		t.Fatal(err)
	}
	got := f.http(t, routeName).Spec.Rules
	if ruleByName(got, "mirror") != nil || mustJSON(t, got[1:]) != before {
		t.Fatalf("after removing the mirror: %s", mustJSON(t, got))
	}
}

func TestMirrorRouteValidation(t *testing.T) {
	f := newFixture(t, httpRoute(routeName, weightedHTTPRule("main")))
	ro := rollout(httpCfg, "m")
	cases := map[string]*v1alpha1.SetMirrorRoute{
		"percent":      {Name: "m", Percentage: ptr(int32(101)), Match: []v1alpha1.RouteMatch{{}}},
		"method regex": {Name: "m", Match: []v1alpha1.RouteMatch{{Method: &v1alpha1.StringMatch{Regex: "P.*"}}}},
		"path empty":   {Name: "m", Match: []v1alpha1.RouteMatch{{Path: &v1alpha1.StringMatch{}}}},
	}
	for name, mr := range cases {
		if err := f.r.SetMirrorRoute(context.Background(), ro, mr); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestOwnerOf(t *testing.T) {
	managed := []string{"a", "a-1", "canary"}
	cases := map[string]string{"a": "a", "a-1": "a-1", "a-2": "a", "a-1-1": "a-1", "canary": "canary", "canary-3": "canary",
		"canary-users": "", "canary-": "", "canary-01": "", "b": "", "": ""}
	for name, want := range cases {
		got, ok := ownerOf(name, managed)
		if got != want || ok != (want != "") {
			t.Errorf("ownerOf(%q) = %q,%v want %q", name, got, ok, want)
		}
	}
}

func TestIntersectPaths(t *testing.T) {
	p := func(typ gatewayv1.PathMatchType, v string) *gatewayv1.HTTPPathMatch {
		return &gatewayv1.HTTPPathMatch{Type: ptr(typ), Value: ptr(v)}
	}
	prefix, exact, regex := gatewayv1.PathMatchPathPrefix, gatewayv1.PathMatchExact, gatewayv1.PathMatchRegularExpression
	cases := []struct {
		name     string
		src, mir *gatewayv1.HTTPPathMatch
		want     *gatewayv1.HTTPPathMatch
		ok, err  bool
	}{
		{"no mirror path", p(prefix, "/fhir"), nil, p(prefix, "/fhir"), true, false},
		{"source is root", p(prefix, "/"), p(exact, "/x"), p(exact, "/x"), true, false},
		{"mirror is root", p(prefix, "/fhir"), p(prefix, "/"), p(prefix, "/fhir"), true, false},
		{"mirror narrower", p(prefix, "/fhir"), p(prefix, "/fhir/Patient"), p(prefix, "/fhir/Patient"), true, false},
		{"mirror broader", p(prefix, "/fhir/Patient"), p(prefix, "/fhir"), p(prefix, "/fhir/Patient"), true, false},
		{"element boundary", p(prefix, "/fhir"), p(prefix, "/fhirx"), nil, false, false},
		{"disjoint", p(prefix, "/a"), p(exact, "/b"), nil, false, false},
		{"exact in prefix", p(prefix, "/a/"), p(exact, "/a/b"), p(exact, "/a/b"), true, false},
		{"regex under path", p(prefix, "/a"), p(regex, "/a/.*"), nil, false, true},
		{"regex on root", p(prefix, "/"), p(regex, "/a/.*"), p(regex, "/a/.*"), true, false},
	}
	for _, tc := range cases {
		got, ok, err := intersectPaths(tc.src, tc.mir)
		if ok != tc.ok || (err != nil) != tc.err || (tc.want != nil && mustJSON(t, got) != mustJSON(t, tc.want)) {
			t.Errorf("%s: got %s ok=%v err=%v", tc.name, mustJSON(t, got), ok, err)
		}
	}
}

func TestMirrorRouteNeverBroadensTheSourceRule(t *testing.T) {
	f := newFixture(t, httpRoute(routeName, weightedHTTPRule("main")))
	ro := rollout(httpCfg, "m")
	// GET / (Argo's typical "mirror everything") stays within the source rule's /fhir.
	if err := f.r.SetMirrorRoute(context.Background(), ro, &v1alpha1.SetMirrorRoute{Name: "m", Match: []v1alpha1.RouteMatch{{Method: &v1alpha1.StringMatch{Exact: "GET"}, Path: &v1alpha1.StringMatch{Prefix: "/"}}}}); err != nil {
		t.Fatal(err)
	}
	rule := ruleByName(f.http(t, routeName).Spec.Rules, "m")
	if rule == nil || *rule.Matches[0].Path.Value != "/fhir" || *rule.Matches[0].Method != "GET" || *rule.Filters[0].RequestMirror.Percent != 100 {
		t.Fatalf("mirror rule: %s", mustJSON(t, rule))
	}
	err := f.r.SetMirrorRoute(context.Background(), ro, &v1alpha1.SetMirrorRoute{Name: "m", Match: []v1alpha1.RouteMatch{{Path: &v1alpha1.StringMatch{Exact: "/other"}}}})
	if err == nil || !strings.Contains(err.Error(), "overlap no weighted rule") {
		t.Fatalf("disjoint mirror: %v", err)
	}
}
