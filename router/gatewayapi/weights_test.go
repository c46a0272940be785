package gatewayapi

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

const httpCfg = `{"httpRoute":"fhir"}`

func TestSetWeightStepsAndLeavesUnmanagedRulesIntact(t *testing.T) {
	ctx := context.Background()
	rules := append([]gatewayv1.HTTPRouteRule{weightedHTTPRule("main")}, unmanagedHTTPRules()...)
	f := newFixture(t, httpRoute(routeName, rules...))
	before := mustJSON(t, f.http(t, routeName).Spec.Rules[1:])
	ro := rollout(httpCfg, "canary")

	for _, w := range []int32{5, 25, 50, 100, 0} {
		if err := f.r.SetWeight(ctx, ro, w, nil); err != nil {
			t.Fatalf("SetWeight(%d): %v", w, err)
		}
		got := f.http(t, routeName)
		s, c := weightsOf(t, got.Spec.Rules[0])
		if s != 100-w || c != w {
			t.Fatalf("weight %d: stable=%d canary=%d", w, s, c)
		}
		if after := mustJSON(t, got.Spec.Rules[1:]); after != before {
			t.Fatalf("weight %d: unmanaged rules changed:\nbefore %s\nafter  %s", w, before, after)
		}
		_, labelled := got.Labels[DefaultInProgressLabelKey]
		if labelled != (w > 0) {
			t.Fatalf("weight %d: in-progress label present=%v", w, labelled)
		}
	}
}

func TestSetWeightIsIdempotent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, httpRoute(routeName, weightedHTTPRule("")))
	ro := rollout(httpCfg)
	if err := f.r.SetWeight(ctx, ro, 30, nil); err != nil {
		t.Fatal(err)
	}
	n := f.patches()
	if n != 1 {
		t.Fatalf("first SetWeight: %d patches, want 1", n)
	}
	for range 3 {
		if err := f.r.SetWeight(ctx, ro, 30, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.patches(); got != n {
		t.Fatalf("repeated SetWeight wrote %d more patches, want none", got-n)
	}
}

func TestSetWeightHonoursMaxTrafficWeight(t *testing.T) {
	f := newFixture(t, httpRoute(routeName, weightedHTTPRule("")))
	ro := rollout(httpCfg)
	ro.Spec.Strategy.Canary.TrafficRouting.MaxTrafficWeight = ptr(int32(1000))
	if err := f.r.SetWeight(context.Background(), ro, 5, nil); err != nil {
		t.Fatal(err)
	}
	if s, c := weightsOf(t, f.http(t, routeName).Spec.Rules[0]); s != 995 || c != 5 {
		t.Fatalf("stable=%d canary=%d, want 995/5", s, c)
	}
	if err := f.r.SetWeight(context.Background(), ro, 1001, nil); err == nil {
		t.Fatal("weight above maxTrafficWeight accepted")
	}
}

func TestSetWeightWithoutInProgressLabel(t *testing.T) {
	f := newFixture(t, httpRoute(routeName, weightedHTTPRule("")))
	ro := rollout(`{"httpRoute":"fhir","disableInProgressLabel":true}`)
	if err := f.r.SetWeight(context.Background(), ro, 10, nil); err != nil {
		t.Fatal(err)
	}
	if len(f.http(t, routeName).Labels) != 0 {
		t.Fatalf("labels set although disabled: %v", f.http(t, routeName).Labels)
	}
	ro = rollout(`{"httpRoute":"fhir","inProgressLabelKey":"example.org/canary","inProgressLabelValue":"on"}`)
	if err := f.r.SetWeight(context.Background(), ro, 10, nil); err != nil {
		t.Fatal(err)
	}
	if v := f.http(t, routeName).Labels["example.org/canary"]; v != "on" {
		t.Fatalf("custom label = %q", v)
	}
}

func TestExperimentDestinationsAddedAndRemoved(t *testing.T) {
	ctx := context.Background()
	rules := append([]gatewayv1.HTTPRouteRule{weightedHTTPRule("")}, unmanagedHTTPRules()...)
	f := newFixture(t, httpRoute(routeName, rules...),
		service("exp-a", corev1.ServicePort{Name: "metrics", Port: 9090}, corev1.ServicePort{Name: "http", Port: 8081}))
	before := mustJSON(t, f.http(t, routeName).Spec.Rules[1:])
	ro := rollout(httpCfg)
	ro.Status.Canary.CurrentExperiment = "exp"
	add := []v1alpha1.WeightDestination{{ServiceName: "exp-a", Weight: 10}}
	if err := f.r.SetWeight(ctx, ro, 20, add); err != nil {
		t.Fatal(err)
	}
	rule := f.http(t, routeName).Spec.Rules[0]
	if s, c := weightsOf(t, rule); s != 70 || c != 20 {
		t.Fatalf("stable=%d canary=%d, want 70/20", s, c)
	}
	if len(rule.BackendRefs) != 3 || rule.BackendRefs[2].Name != "exp-a" || *rule.BackendRefs[2].Port != 8081 || *rule.BackendRefs[2].Weight != 10 {
		t.Fatalf("experiment backendRef: %s", mustJSON(t, rule.BackendRefs))
	}
	n := f.patches()
	if err := f.r.SetWeight(ctx, ro, 20, add); err != nil {
		t.Fatal(err)
	}
	if f.patches() != n {
		t.Fatal("repeating the experiment weights wrote again")
	}
	if v, err := f.r.Verify(ctx, ro, 20, add); err != nil || strings.Contains(v.Message(), "weight") {
		t.Fatalf("verify after experiment weights: %+v %v", v, err)
	}

	// The experiment ends: the controller sends no additional destinations, and the status
	// still lists the one it set before.
	ro.Status.Canary.CurrentExperiment = ""
	ro.Status.Canary.Weights = &v1alpha1.TrafficWeights{Additional: add}
	if err := f.r.SetWeight(ctx, ro, 20, nil); err != nil {
		t.Fatal(err)
	}
	got := f.http(t, routeName)
	if len(got.Spec.Rules[0].BackendRefs) != 2 {
		t.Fatalf("experiment backendRef not removed: %s", mustJSON(t, got.Spec.Rules[0].BackendRefs))
	}
	if s, c := weightsOf(t, got.Spec.Rules[0]); s != 80 || c != 20 {
		t.Fatalf("stable=%d canary=%d, want 80/20", s, c)
	}
	if after := mustJSON(t, got.Spec.Rules[1:]); after != before {
		t.Fatalf("unmanaged rules changed:\nbefore %s\nafter  %s", before, after)
	}
}

func TestExperimentServiceMissing(t *testing.T) {
	f := newFixture(t, httpRoute(routeName, weightedHTTPRule("")))
	err := f.r.SetWeight(context.Background(), rollout(httpCfg), 20, []v1alpha1.WeightDestination{{ServiceName: "exp-b", Weight: 10}})
	if err == nil || !strings.Contains(err.Error(), "Service clinic/exp-b not found") {
		t.Fatalf("err = %v", err)
	}
}

func TestSetWeightErrors(t *testing.T) {
	otherNS := weightedHTTPRule("")
	ns := gatewayv1.Namespace("elsewhere")
	otherNS.BackendRefs[0].Namespace = &ns
	otherNS.BackendRefs[1].Namespace = &ns
	split := gatewayv1.HTTPRouteRule{BackendRefs: []gatewayv1.HTTPBackendRef{httpBackend(stableSvc, nil)}}
	split2 := gatewayv1.HTTPRouteRule{BackendRefs: []gatewayv1.HTTPBackendRef{httpBackend(canarySvc, nil)}}
	cases := []struct {
		name  string
		rules []gatewayv1.HTTPRouteRule
		cfg   string
		want  string
	}{
		{"route not found", nil, `{"httpRoute":"nope"}`, `HTTPRoute clinic/nope not found: no HTTPRoute named "nope" in namespace "clinic"`},
		{"stable missing", []gatewayv1.HTTPRouteRule{split2}, httpCfg, `no backendRef to the stable Service "fhir-stable"`},
		{"canary missing", []gatewayv1.HTTPRouteRule{split}, httpCfg, `no backendRef to the canary Service "fhir-canary"`},
		{"both missing", unmanagedHTTPRules()[1:2], httpCfg, `no backendRef to the stable Service "fhir-stable" nor to the canary Service`},
		{"different rules", []gatewayv1.HTTPRouteRule{split, split2}, httpCfg, "only in different rules"},
		{"wrong namespace", []gatewayv1.HTTPRouteRule{otherNS}, httpCfg, `wrong namespace`},
		{"route in other namespace", nil, `{"httpRoute":"fhir","namespace":"gateways"}`, `no HTTPRoute named "fhir" in namespace "gateways"`},
		{"no routes", nil, `{"namespace":"x"}`, "no routes configured"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, httpRoute(routeName, tc.rules...))
			err := f.r.SetWeight(context.Background(), rollout(tc.cfg), 10, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if f.patches() != 0 {
				t.Fatal("a failing SetWeight wrote")
			}
		})
	}
}

func TestMissingPluginConfigNamesKeys(t *testing.T) {
	f := newFixture(t)
	ro := rollout(httpCfg)
	ro.Spec.Strategy.Canary.TrafficRouting.Plugins = map[string]json.RawMessage{LabsPluginName: json.RawMessage(httpCfg)}
	err := f.r.SetWeight(context.Background(), ro, 10, nil)
	if err == nil || !strings.Contains(err.Error(), `plugins["nerve/gatewayAPI"]`) || !strings.Contains(err.Error(), LabsPluginName) {
		t.Fatalf("err = %v", err)
	}
	labs := New(Options{Name: LabsPluginName, Clients: f.lean()})
	if err := labs.SetWeight(context.Background(), ro, 10, nil); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("with --name=%s: err = %v, want the route lookup to run", LabsPluginName, err)
	}
}

func TestRBACDeniedSaysVerbAndResource(t *testing.T) {
	f := newFixture(t, httpRoute(routeName, weightedHTTPRule("")))
	gr := schema.GroupResource{Group: gatewayv1.GroupName, Resource: "httproutes"}
	failNext(f, "patch", "httproutes", 1, apierrors.NewForbidden(gr, routeName, errors.New("no RBAC policy matched")))
	err := f.r.SetWeight(context.Background(), rollout(httpCfg), 10, nil)
	if err == nil || !strings.Contains(err.Error(), "RBAC denied: cannot patch httproutes.gateway.networking.k8s.io in namespace \"clinic\"") {
		t.Fatalf("err = %v", err)
	}
	failNext(f, "get", "httproutes", 1, apierrors.NewForbidden(gr, routeName, errors.New("no RBAC policy matched")))
	if err := f.r.SetWeight(context.Background(), rollout(httpCfg), 10, nil); err == nil || !strings.Contains(err.Error(), "cannot get httproutes") {
		t.Fatalf("err = %v", err)
	}
}

func TestSetWeightRetriesOnConflict(t *testing.T) {
	f := newFixture(t, httpRoute(routeName, weightedHTTPRule("")))
	gr := schema.GroupResource{Group: gatewayv1.GroupName, Resource: "httproutes"}
	failNext(f, "patch", "httproutes", 2, apierrors.NewConflict(gr, routeName, errors.New("changed")))
	// A conflict that leaves the resourceVersion unchanged is not retried forever: make the
	// route move between attempts by bumping its generation through the tracker.
	f.gw.PrependReactor("get", "httproutes", bumpRV(f))
	if err := f.r.SetWeight(context.Background(), rollout(httpCfg), 40, nil); err != nil {
		t.Fatal(err)
	}
	if s, c := weightsOf(t, f.http(t, routeName).Spec.Rules[0]); s != 60 || c != 40 {
		t.Fatalf("stable=%d canary=%d", s, c)
	}
}

func TestConcurrentSetWeight(t *testing.T) {
	f := newFixture(t, httpRoute(routeName, weightedHTTPRule("")))
	ro := rollout(httpCfg)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := f.r.SetWeight(context.Background(), ro, 50, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if s, c := weightsOf(t, f.http(t, routeName).Spec.Rules[0]); s != 50 || c != 50 {
		t.Fatalf("stable=%d canary=%d", s, c)
	}
}

func TestRouterIsATrafficRouter(t *testing.T) {
	var r plugins.TrafficRouter = New(Options{})
	if typ, err := r.Type(context.Background()); err != nil || typ != Type {
		t.Fatalf("Type = %q, %v", typ, err)
	}
}

func TestInitFailureIsRetried(t *testing.T) {
	calls := 0
	r := New(Options{RESTConfig: func() (*rest.Config, error) {
		calls++
		if calls == 1 {
			return nil, errors.New("no kubeconfig")
		}
		return &rest.Config{Host: "https://127.0.0.1:1"}, nil
	}})
	if err := r.InitPlugin(context.Background()); err == nil || !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("InitPlugin err = %v", err)
	}
	if _, err := r.ensureClients(); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	if calls != 2 {
		t.Fatalf("RESTConfig called %d times", calls)
	}
	if typ, _ := r.Type(context.Background()); typ != Type {
		t.Fatalf("Type = %q", typ)
	}
}

func TestNotInitialisedCallsFailCleanly(t *testing.T) {
	r := New(Options{RESTConfig: func() (*rest.Config, error) { return nil, errors.New("no kubeconfig") }})
	ro := rollout(httpCfg, "h")
	for name, call := range map[string]func() error{
		"SetWeight":           func() error { return r.SetWeight(context.Background(), ro, 1, nil) },
		"SetHeaderRoute":      func() error { return r.SetHeaderRoute(context.Background(), ro, &v1alpha1.SetHeaderRoute{Name: "h"}) },
		"SetMirrorRoute":      func() error { return r.SetMirrorRoute(context.Background(), ro, &v1alpha1.SetMirrorRoute{Name: "h"}) },
		"RemoveManagedRoutes": func() error { return r.RemoveManagedRoutes(context.Background(), ro) },
		"VerifyWeight":        func() error { _, err := r.VerifyWeight(context.Background(), ro, 1, nil); return err },
	} {
		if err := call(); !errors.Is(err, ErrNotInitialized) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if err := r.UpdateHash(context.Background(), ro, "a", "b", nil); err != nil {
		t.Fatal(err)
	}
}

func TestSelectorDiscovery(t *testing.T) {
	a := httpRoute("a", weightedHTTPRule(""))
	a.Labels = map[string]string{"app": "fhir"}
	b := httpRoute("b", weightedHTTPRule(""))
	f := newFixture(t, a, b)
	ro := rollout(`{"httpRouteSelector":{"matchLabels":{"app":"fhir"}}}`)
	if err := f.r.SetWeight(context.Background(), ro, 15, nil); err != nil {
		t.Fatal(err)
	}
	if s, c := weightsOf(t, f.http(t, "a").Spec.Rules[0]); s != 85 || c != 15 {
		t.Fatalf("selected route: stable=%d canary=%d", s, c)
	}
	if s, c := weightsOf(t, f.http(t, "b").Spec.Rules[0]); s != 100 || c != 0 {
		t.Fatalf("unselected route changed: stable=%d canary=%d", s, c)
	}
}

func TestTCPAndTLSRouteWeights(t *testing.T) {
	rules := func() ([]gatewayv1.BackendRef, []gatewayv1.BackendRef) {
		return []gatewayv1.BackendRef{backend(stableSvc, nil), backend(canarySvc, nil)}, []gatewayv1.BackendRef{backend("legacy", ptr(int32(3)))}
	}
	w1, other1 := rules()
	w2, other2 := rules()
	tcp := &gatewayv1.TCPRoute{ObjectMeta: metav1.ObjectMeta{Name: "mllp", Namespace: testNS}, Spec: gatewayv1.TCPRouteSpec{Rules: []gatewayv1.TCPRouteRule{{BackendRefs: w1}, {BackendRefs: other1}}}}
	tls := &gatewayv1.TLSRoute{ObjectMeta: metav1.ObjectMeta{Name: "mllps", Namespace: testNS}, Spec: gatewayv1.TLSRouteSpec{Rules: []gatewayv1.TLSRouteRule{{BackendRefs: w2}, {BackendRefs: other2}}}}
	f := newFixture(t, tcp, tls)
	ro := rollout(`{"tcpRoutes":[{"name":"mllp"}],"tlsRoute":"mllps"}`)
	if err := f.r.SetWeight(context.Background(), ro, 25, nil); err != nil {
		t.Fatal(err)
	}
	gotTCP, _ := f.gw.GatewayV1().TCPRoutes(testNS).Get(context.Background(), "mllp", metav1.GetOptions{})
	gotTLS, _ := f.gw.GatewayV1().TLSRoutes(testNS).Get(context.Background(), "mllps", metav1.GetOptions{})
	for kind, rules := range map[string][][]gatewayv1.BackendRef{
		"tcp": {gotTCP.Spec.Rules[0].BackendRefs, gotTCP.Spec.Rules[1].BackendRefs},
		"tls": {gotTLS.Spec.Rules[0].BackendRefs, gotTLS.Spec.Rules[1].BackendRefs},
	} {
		if *rules[0][0].Weight != 75 || *rules[0][1].Weight != 25 {
			t.Fatalf("%s weights: %s", kind, mustJSON(t, rules[0]))
		}
		if mustJSON(t, rules[1]) != mustJSON(t, other1) {
			t.Fatalf("%s unmanaged rule changed: %s", kind, mustJSON(t, rules[1]))
		}
	}
	// Header routes do not apply to TCP/TLS: a no-op, not an error.
	if err := f.r.SetHeaderRoute(context.Background(), rollout(`{"tcpRoute":"mllp"}`, "h"), &v1alpha1.SetHeaderRoute{Name: "h", Match: []v1alpha1.HeaderRoutingMatch{{HeaderName: "x", HeaderValue: &v1alpha1.StringMatch{Exact: "1"}}}}); err != nil {
		t.Fatal(err)
	}
}

func TestRouteInAnotherNamespace(t *testing.T) {
	rule := weightedHTTPRule("")
	ns := gatewayv1.Namespace(testNS)
	rule.BackendRefs[0].Namespace = &ns
	rule.BackendRefs[1].Namespace = &ns
	rt := httpRoute(routeName, rule)
	rt.Namespace = "gateways"
	f := newFixture(t, rt, service("exp", corev1.ServicePort{Port: 81}))
	ro := rollout(`{"httpRoute":"fhir","namespace":"gateways"}`)
	if err := f.r.SetWeight(context.Background(), ro, 20, []v1alpha1.WeightDestination{{ServiceName: "exp", Weight: 5}}); err != nil {
		t.Fatal(err)
	}
	got, err := f.gw.GatewayV1().HTTPRoutes("gateways").Get(context.Background(), routeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	refs := got.Spec.Rules[0].BackendRefs
	if *refs[0].Weight != 75 || *refs[1].Weight != 20 || len(refs) != 3 || refs[2].Namespace == nil || string(*refs[2].Namespace) != testNS {
		t.Fatalf("cross-namespace weights: %s", mustJSON(t, refs))
	}
}

func TestDescribeAPIErrorWithoutCRDs(t *testing.T) {
	err := apierrors.NewGenericServerResponse(404, "get", schema.GroupResource{Group: gatewayv1.GroupName, Resource: "tlsroutes"}, "x", "", 0, false)
	got := describeAPIError(err, "get", target{Kind: KindTLSRoute, Namespace: "ns", Name: "x"})
	if !strings.Contains(got.Error(), "does not serve tlsroutes.gateway.networking.k8s.io") {
		t.Fatalf("got %v", got)
	}
}

func TestPatchPreconditions(t *testing.T) {
	var patches []string
	f := newFixture(t, httpRoute(routeName, weightedHTTPRule("main")), service("exp", corev1.ServicePort{Port: 81}))
	f.gw.PrependReactor("patch", "httproutes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		patches = append(patches, string(a.(k8stesting.PatchAction).GetPatch()))
		return false, nil, nil
	})
	rt, _ := f.gw.Tracker().Get(gatewayv1.SchemeGroupVersion.WithResource("httproutes"), testNS, routeName)
	route := rt.(*gatewayv1.HTTPRoute).DeepCopy()
	route.ResourceVersion = "7"
	route.Labels = map[string]string{"x": "y"}
	if err := f.gw.Tracker().Update(gatewayv1.SchemeGroupVersion.WithResource("httproutes"), route, testNS); err != nil {
		t.Fatal(err)
	}
	ro := rollout(httpCfg)
	if err := f.r.SetWeight(context.Background(), ro, 10, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.r.SetWeight(context.Background(), ro, 10, []v1alpha1.WeightDestination{{ServiceName: "exp", Weight: 5}}); err != nil {
		t.Fatal(err)
	}
	if len(patches) != 2 {
		t.Fatalf("%d patches", len(patches))
	}
	// Weights only: guarded by the backendRefs' names, not by the resourceVersion.
	if strings.Contains(patches[0], "resourceVersion") || !strings.Contains(patches[0], `{"op":"test","path":"/spec/rules/0/backendRefs/1/name","value":"fhir-canary"}`) {
		t.Fatalf("weight patch: %s", patches[0])
	}
	// An append is guarded by the resourceVersion.
	if !strings.Contains(patches[1], `{"op":"test","path":"/metadata/resourceVersion","value":"7"}`) || !strings.Contains(patches[1], `"/spec/rules/0/backendRefs/-"`) {
		t.Fatalf("append patch: %s", patches[1])
	}
}
