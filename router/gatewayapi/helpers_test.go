package gatewayapi

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwfake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/kube"
	"github.com/nerve-rollouts/nerve/kube/kubetest"
)

const (
	testNS     = "clinic"
	stableSvc  = "fhir-stable"
	canarySvc  = "fhir-canary"
	routeName  = "fhir"
	pluginKey  = DefaultPluginName
	headerName = "x-canary"
)

type fixture struct {
	gw   *gwfake.Clientset
	core *k8sfake.Clientset
	r    *Router
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	var gwObjs, coreObjs []runtime.Object
	for _, o := range objs {
		switch o.(type) {
		case *corev1.Service:
			coreObjs = append(coreObjs, o)
		default:
			gwObjs = append(gwObjs, o)
		}
	}
	f := &fixture{gw: gwfake.NewSimpleClientset(gwObjs...), core: k8sfake.NewSimpleClientset(coreObjs...)}
	f.r = New(Options{Clients: f.lean()})
	return f
}

// lean is the router's Clients over the fixture's fake clientsets.
func (f *fixture) lean() *Clients {
	return ClientsFrom(func(gvr schema.GroupVersionResource, kind string) kube.API {
		if gvr.Group == "" {
			return kubetest.New(&f.core.Fake, gvr, kind)
		}
		return kubetest.New(&f.gw.Fake, gvr, kind)
	})
}

// patches counts the patch actions sent so far.
func (f *fixture) patches() int {
	n := 0
	for _, a := range f.gw.Actions() {
		if a.GetVerb() == "patch" {
			n++
		}
	}
	return n
}

func (f *fixture) http(t *testing.T, name string) *gatewayv1.HTTPRoute {
	t.Helper()
	o, err := f.gw.GatewayV1().HTTPRoutes(testNS).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get HTTPRoute: %v", err)
	}
	return o
}

func (f *fixture) grpc(t *testing.T, name string) *gatewayv1.GRPCRoute {
	t.Helper()
	o, err := f.gw.GatewayV1().GRPCRoutes(testNS).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get GRPCRoute: %v", err)
	}
	return o
}

func ptr[T any](v T) *T { return &v }

func backend(name string, weight *int32) gatewayv1.BackendRef {
	return gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(name), Port: ptr(gatewayv1.PortNumber(8080))}, Weight: weight}
}

func httpBackend(name string, weight *int32) gatewayv1.HTTPBackendRef {
	return gatewayv1.HTTPBackendRef{BackendRef: backend(name, weight)}
}

// weightedHTTPRule is the rule nerve weights.
func weightedHTTPRule(name string) gatewayv1.HTTPRouteRule {
	r := gatewayv1.HTTPRouteRule{
		Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchPathPrefix), Value: ptr("/fhir")}}},
		BackendRefs: []gatewayv1.HTTPBackendRef{
			httpBackend(stableSvc, ptr(int32(100))),
			httpBackend(canarySvc, ptr(int32(0))),
		},
	}
	if name != "" {
		r.Name = ptr(gatewayv1.SectionName(name))
	}
	return r
}

// unmanagedHTTPRules are rules nerve must never touch: a fixed canary route (argoproj-labs#217),
// a rule to another service, and a rule named like a managed route's derivative but of a route
// that is not managed.
func unmanagedHTTPRules() []gatewayv1.HTTPRouteRule {
	return []gatewayv1.HTTPRouteRule{
		{
			Name: ptr(gatewayv1.SectionName("query-param-canary")),
			Matches: []gatewayv1.HTTPRouteMatch{{
				Path:        &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchPathPrefix), Value: ptr("/")},
				QueryParams: []gatewayv1.HTTPQueryParamMatch{{Type: ptr(gatewayv1.QueryParamMatchExact), Name: "canary", Value: "true"}},
			}},
			BackendRefs: []gatewayv1.HTTPBackendRef{httpBackend(canarySvc, nil)},
		},
		{
			Name:        ptr(gatewayv1.SectionName("other-app")),
			Matches:     []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchPathPrefix), Value: ptr("/other")}}},
			BackendRefs: []gatewayv1.HTTPBackendRef{httpBackend("other", ptr(int32(7)))},
		},
		{
			Name:        ptr(gatewayv1.SectionName("canary-users")),
			Matches:     []gatewayv1.HTTPRouteMatch{{Headers: []gatewayv1.HTTPHeaderMatch{{Type: ptr(gatewayv1.HeaderMatchExact), Name: headerName, Value: "yes"}}}},
			BackendRefs: []gatewayv1.HTTPBackendRef{httpBackend(canarySvc, ptr(int32(1)))},
		},
	}
}

func httpRoute(name string, rules ...gatewayv1.HTTPRouteRule) *gatewayv1.HTTPRoute {
	return &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS, Generation: 1},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: "gw"}}},
			Rules:           rules,
		},
	}
}

func service(name string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS}, Spec: corev1.ServiceSpec{Ports: ports}}
}

// rollout returns a Rollout with the plugin config cfg (a JSON object) and managed routes.
func rollout(cfg string, managed ...string) *v1alpha1.Rollout {
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "fhir", Namespace: testNS}}
	tr := &v1alpha1.RolloutTrafficRouting{Plugins: map[string]json.RawMessage{pluginKey: json.RawMessage(cfg)}}
	for _, m := range managed {
		tr.ManagedRoutes = append(tr.ManagedRoutes, v1alpha1.MangedRoutes{Name: m})
	}
	ro.Spec.Strategy.Canary = &v1alpha1.CanaryStrategy{StableService: stableSvc, CanaryService: canarySvc, TrafficRouting: tr}
	return ro
}

// weightsOf returns the stable and canary weights of rule i.
func weightsOf(t *testing.T, rule gatewayv1.HTTPRouteRule) (stable, canary int32) {
	t.Helper()
	stable, canary = -1, -1
	for _, b := range rule.BackendRefs {
		if b.Weight == nil {
			continue
		}
		switch string(b.Name) {
		case stableSvc:
			stable = *b.Weight
		case canarySvc:
			canary = *b.Weight
		}
	}
	return stable, canary
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ruleByName returns the rule named name, or nil.
func ruleByName(rules []gatewayv1.HTTPRouteRule, name string) *gatewayv1.HTTPRouteRule {
	for i := range rules {
		if rules[i].Name != nil && string(*rules[i].Name) == name {
			return &rules[i]
		}
	}
	return nil
}

// failNext makes the next n calls of verb on resource fail with err.
func failNext(f *fixture, verb, resource string, n int, err error) {
	f.gw.PrependReactor(verb, resource, func(k8stesting.Action) (bool, runtime.Object, error) {
		if n == 0 {
			return false, nil, nil
		}
		n--
		return true, nil, err
	})
}

// bumpRV returns a get reactor that gives the route a new resourceVersion on every read, as if
// someone else kept writing it.
func bumpRV(f *fixture) k8stesting.ReactionFunc {
	n := 100
	return func(a k8stesting.Action) (bool, runtime.Object, error) {
		get, ok := a.(k8stesting.GetAction)
		if !ok {
			return false, nil, nil
		}
		gvr := gatewayv1.SchemeGroupVersion.WithResource("httproutes")
		obj, err := f.gw.Tracker().Get(gvr, get.GetNamespace(), get.GetName())
		if err != nil {
			return true, nil, err
		}
		route := obj.(*gatewayv1.HTTPRoute).DeepCopy()
		n++
		route.ResourceVersion = strconv.Itoa(n)
		if err := f.gw.Tracker().Update(gvr, route, get.GetNamespace()); err != nil {
			return true, nil, err
		}
		return true, route, nil
	}
}
