package gatewayapi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestDecodeConfigClaimsOnlyGatewayConfigs(t *testing.T) {
	for raw, want := range map[string]error{
		`{"httpRoute":"a"}`: nil,
		`{"grpcRoutes":[{"name":"g"}],"namespace":"gw"}`:      nil,
		`{"tlsRouteSelector":{"matchLabels":{"app":"fhir"}}}`: nil,
		`{"route":"mllp-listener"}`:                           ErrNoRoutes,
		`{"namespace":"gw"}`:                                  ErrNoRoutes,
		`{}`:                                                  ErrNoRoutes,
	} {
		if _, _, err := DecodeConfig([]byte(raw)); !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", raw, err, want)
		}
	}
	if _, _, err := DecodeConfig([]byte(`{"httpRoute":5}`)); err == nil || !strings.Contains(err.Error(), "cannot unmarshal") {
		t.Errorf("bad type: %v", err)
	}
	cfg, warnings, err := DecodeConfig([]byte(`{"httpRoute":"a","httpRoutez":[{"name":"typo"}]}`))
	if err != nil || cfg.HTTPRoute != "a" || cfg.Namespace != "" || len(warnings) != 1 || !strings.Contains(warnings[0], "httpRoutez") {
		t.Errorf("lenient decode: %+v %v %v", cfg, warnings, err)
	}
}

func mustDecode(t *testing.T, raw string) *Config {
	t.Helper()
	cfg, _, err := DecodeConfig([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestObserveReportsEveryRuleAndBackend(t *testing.T) {
	web := httpRoute(routeName, append([]gatewayv1.HTTPRouteRule{weightedHTTPRule("main")}, unmanagedHTTPRules()...)...)
	web.Spec.Rules[0].BackendRefs[0].Weight = ptr(int32(80))
	web.Spec.Rules[0].BackendRefs[1].Weight = ptr(int32(20))
	tcp := &gatewayv1.TCPRoute{ObjectMeta: metav1.ObjectMeta{Name: "mllp", Namespace: testNS},
		Spec: gatewayv1.TCPRouteSpec{Rules: []gatewayv1.TCPRouteRule{{BackendRefs: []gatewayv1.BackendRef{backend(stableSvc, nil), backend(canarySvc, ptr(int32(0)))}}}}}
	f := newFixture(t, web, tcp)
	got, err := Observe(context.Background(), f.lean(), rollout(""), mustDecode(t, `{"httpRoute":"fhir","tcpRoutes":[{"name":"mllp"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	stable := func(w int32) BackendWeight {
		return BackendWeight{Name: stableSvc, Namespace: testNS, Weight: w, Role: RoleStable}
	}
	canary := func(w int32) BackendWeight {
		return BackendWeight{Name: canarySvc, Namespace: testNS, Weight: w, Role: RoleCanary}
	}
	want := []RouteWeights{
		{Kind: KindHTTPRoute, Namespace: testNS, Name: routeName, Rules: []RuleWeights{
			{Name: "main", Backends: []BackendWeight{stable(80), canary(20)}},
			{Name: "query-param-canary", Backends: []BackendWeight{canary(1)}},
			{Name: "other-app", Backends: []BackendWeight{{Name: "other", Namespace: testNS, Weight: 7}}},
			{Name: "canary-users", Backends: []BackendWeight{canary(1)}},
		}},
		{Kind: KindTCPRoute, Namespace: testNS, Name: "mllp", Rules: []RuleWeights{{Backends: []BackendWeight{stable(1), canary(0)}}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("observed (-want +got):\n%s", d)
	}
	if n := len(f.gw.Actions()); n != 2 {
		t.Errorf("%d API calls, want 2 gets: %v", n, f.gw.Actions())
	}
	for _, a := range f.gw.Actions() {
		if a.GetVerb() != "get" {
			t.Errorf("observe wrote: %s", a.GetVerb())
		}
	}
}

func TestObserveSelectorsAndNamespaces(t *testing.T) {
	a := httpRoute("a", weightedHTTPRule(""))
	a.Namespace, a.Labels = "gw", map[string]string{"app": "fhir"}
	// A backendRef to a same-named Service of the route's namespace is not the Rollout's.
	b := httpRoute("b", weightedHTTPRule(""))
	b.Namespace = "gw"
	f := newFixture(t, a, b)
	got, err := Observe(context.Background(), f.lean(), rollout(""), mustDecode(t, `{"namespace":"gw","httpRouteSelector":{"matchLabels":{"app":"fhir"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "a" || got[0].Namespace != "gw" {
		t.Fatalf("selected %+v", got)
	}
	for _, bw := range got[0].Rules[0].Backends {
		if bw.Role != "" || bw.Namespace != "gw" {
			t.Errorf("backend %+v of another namespace has a role", bw)
		}
	}
	if _, err := Observe(context.Background(), f.lean(), rollout(""), mustDecode(t, `{"httpRouteSelector":{"matchExpressions":[{"key":"app","operator":"Bogus"}]}}`)); err == nil {
		t.Error("bad selector accepted")
	}
}

func TestObserveKeepsGoingPastAMissingRoute(t *testing.T) {
	f := newFixture(t, httpRoute("b", weightedHTTPRule("")))
	got, err := Observe(context.Background(), f.lean(), rollout(""), mustDecode(t, `{"httpRoutes":[{"name":"a"},{"name":"b"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !apierrors.IsNotFound(got[0].Err) || got[0].Rules != nil || got[1].Err != nil || len(got[1].Rules) != 1 {
		t.Fatalf("observed %+v", got)
	}
	if want := "httproutes clinic/a: "; !strings.HasPrefix(got[0].Err.Error(), want) {
		t.Errorf("error %q lacks %q", got[0].Err, want)
	}
	denied := apierrors.NewForbidden(schema.GroupResource{Group: gatewayv1.GroupName, Resource: "httproutes"}, "b", errors.New("no"))
	failNext(f, "get", "httproutes", 1, denied)
	got, _ = Observe(context.Background(), f.lean(), rollout(""), mustDecode(t, `{"httpRoute":"b"}`))
	if d := cmp.Diff([]RouteWeights{{Kind: KindHTTPRoute, Namespace: testNS, Name: "b", Err: denied}}, got, cmpopts.EquateErrors()); d != "" {
		t.Errorf("denied (-want +got):\n%s", d)
	}
}
