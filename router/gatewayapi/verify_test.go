package gatewayapi

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/nerve-rollouts/nerve/plugins"
)

func parent(gen int64, accepted, resolved metav1.ConditionStatus) gatewayv1.RouteParentStatus {
	return gatewayv1.RouteParentStatus{
		ParentRef:      gatewayv1.ParentReference{Name: "gw"},
		ControllerName: "example.org/gateway",
		Conditions: []metav1.Condition{
			{Type: "Accepted", Status: accepted, ObservedGeneration: gen, Reason: "Accepted"},
			{Type: "ResolvedRefs", Status: resolved, ObservedGeneration: gen, Reason: "ResolvedRefs", Message: "refs"},
		},
	}
}

func TestVerifyWeight(t *testing.T) {
	withWeights := func(stable, canary int32) gatewayv1.HTTPRouteRule {
		r := weightedHTTPRule("main")
		r.BackendRefs[0].Weight = ptr(stable)
		r.BackendRefs[1].Weight = nil
		if canary != 1 {
			r.BackendRefs[1].Weight = ptr(canary)
		}
		return r
	}
	cases := []struct {
		name    string
		rule    gatewayv1.HTTPRouteRule
		gen     int64
		parents []gatewayv1.RouteParentStatus
		desired int32
		want    plugins.RpcVerified
		reason  string
	}{
		{"verified", withWeights(80, 20), 3, []gatewayv1.RouteParentStatus{parent(3, "True", "True")}, 20, plugins.Verified, ""},
		{"default weight 1 counts", withWeights(99, 1), 1, []gatewayv1.RouteParentStatus{parent(1, "True", "True")}, 1, plugins.Verified, ""},
		{"spec not yet updated", withWeights(100, 0), 3, []gatewayv1.RouteParentStatus{parent(3, "True", "True")}, 20, plugins.NotVerified, `backendRef "fhir-stable" has weight 100, want 80`},
		{"no parents", withWeights(80, 20), 3, nil, 20, plugins.NotVerified, "status.parents is empty"},
		{"old generation", withWeights(80, 20), 4, []gatewayv1.RouteParentStatus{parent(3, "True", "True")}, 20, plugins.NotVerified, "has not observed generation 4"},
		{"not accepted", withWeights(80, 20), 3, []gatewayv1.RouteParentStatus{parent(3, "False", "True")}, 20, plugins.NotVerified, "Accepted=False"},
		{"refs unresolved", withWeights(80, 20), 3, []gatewayv1.RouteParentStatus{parent(3, "True", "False")}, 20, plugins.NotVerified, "ResolvedRefs=False"},
		{"one of two parents behind", withWeights(80, 20), 3, []gatewayv1.RouteParentStatus{parent(3, "True", "True"), parent(2, "True", "True")}, 20, plugins.NotVerified, "generation 3"},
		{"condition missing", withWeights(80, 20), 3, []gatewayv1.RouteParentStatus{{ParentRef: gatewayv1.ParentReference{Name: "gw"}, Conditions: []metav1.Condition{{Type: "Accepted", Status: "True", ObservedGeneration: 3}}}}, 20, plugins.NotVerified, "no ResolvedRefs condition"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := httpRoute(routeName, tc.rule)
			rt.Generation = tc.gen
			rt.Status.Parents = tc.parents
			f := newFixture(t, rt)
			ro := rollout(httpCfg)
			got, err := f.r.VerifyWeight(context.Background(), ro, tc.desired, nil)
			if err != nil || got != tc.want {
				t.Fatalf("VerifyWeight = %v, %v; want %v", got, err, tc.want)
			}
			v, err := f.r.Verify(context.Background(), ro, tc.desired, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.reason != "" && !strings.Contains(v.Message(), tc.reason) {
				t.Fatalf("reason %q does not contain %q", v.Message(), tc.reason)
			}
		})
	}
}

func TestVerifyWeightErrors(t *testing.T) {
	f := newFixture(t, httpRoute(routeName, unmanagedHTTPRules()...))
	if got, err := f.r.VerifyWeight(context.Background(), rollout(`{"httpRoute":"missing"}`), 10, nil); got != plugins.NotVerified || err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing route: %v %v", got, err)
	}
	if got, err := f.r.VerifyWeight(context.Background(), rollout(httpCfg), 10, nil); got != plugins.NotVerified || err == nil || !strings.Contains(err.Error(), "stable") {
		t.Fatalf("no weighted rule: %v %v", got, err)
	}
}

func TestVerifyAllRoutes(t *testing.T) {
	ok := httpRoute("a", weightedHTTPRule(""))
	ok.Status.Parents = []gatewayv1.RouteParentStatus{parent(1, "True", "True")}
	pending := httpRoute("b", weightedHTTPRule(""))
	f := newFixture(t, ok, pending)
	v, err := f.r.Verify(context.Background(), rollout(`{"httpRoutes":[{"name":"a"},{"name":"b"}]}`), 0, nil)
	if err != nil || v.Verified || len(v.Reasons) != 1 || !strings.Contains(v.Reasons[0], "clinic/b") {
		t.Fatalf("verify = %+v, %v", v, err)
	}
}

func TestVerifyWaitsForTheGateway(t *testing.T) {
	rt := httpRoute(routeName, weightedHTTPRule(""))
	f := newFixture(t, rt)
	f.r.opts.VerifyWait = 5 * time.Second
	// A "Gateway" accepts the route after a few reads.
	reads := 0
	f.gw.PrependReactor("get", "httproutes", func(k8stesting.Action) (bool, runtime.Object, error) {
		reads++
		if reads == 3 {
			o, _ := f.gw.Tracker().Get(gatewayv1.SchemeGroupVersion.WithResource("httproutes"), testNS, routeName)
			route := o.(*gatewayv1.HTTPRoute).DeepCopy()
			route.Status.Parents = []gatewayv1.RouteParentStatus{parent(route.Generation, "True", "True")}
			_ = f.gw.Tracker().Update(gatewayv1.SchemeGroupVersion.WithResource("httproutes"), route, testNS)
		}
		return false, nil, nil
	})
	got, err := f.r.VerifyWeight(context.Background(), rollout(httpCfg), 0, nil)
	if err != nil || got != plugins.Verified || reads < 3 {
		t.Fatalf("VerifyWeight = %v %v after %d reads", got, err, reads)
	}
	f.r.opts.VerifyWait = 0
	reads = -100
	f2 := newFixture(t, httpRoute(routeName, weightedHTTPRule("")))
	if got, err := f2.r.VerifyWeight(context.Background(), rollout(httpCfg), 0, nil); err != nil || got != plugins.NotVerified {
		t.Fatalf("no wait: %v %v", got, err)
	}
}
