package mllp

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

const ns = "clinical"

func epoch() time.Time { return time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC) }

func baseRoute() *api.MLLPRoute {
	r := &api.MLLPRoute{}
	r.Name, r.Namespace, r.Generation = "mllp-listener", ns, 1
	r.Spec = api.MLLPRouteSpec{Service: "mllp-listener", StableService: "stable", CanaryService: "canary", Weight: 0}
	return r
}

func routeObj(t *testing.T, r *api.MLLPRoute) *unstructured.Unstructured {
	t.Helper()
	u, err := api.ToUnstructured(r)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func service(name string, shadow bool) *unstructured.Unstructured {
	s := &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}}
	s.Name, s.Namespace = name, ns
	if shadow {
		s.Labels = map[string]string{api.ShadowLabel: "true"}
	}
	obj, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(s)
	return &unstructured.Unstructured{Object: obj}
}

func newFake(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		api.GroupVersionResource(): api.ListKind,
		servicesGVR():              "ServiceList",
	}, objs...)
}

func newRouter(d *dynamicfake.FakeDynamicClient, now func() time.Time) *Router {
	if now == nil {
		now = epoch
	}
	return New(Options{Dynamic: d, Now: now, PollInterval: time.Millisecond})
}

func rollout(cfg string) *v1alpha1.Rollout {
	ro := &v1alpha1.Rollout{}
	ro.Name, ro.Namespace = "mllp-listener", ns
	ro.Spec.Strategy.Canary = &v1alpha1.CanaryStrategy{StableService: "stable", CanaryService: "canary",
		TrafficRouting: &v1alpha1.RolloutTrafficRouting{
			Plugins:       map[string]json.RawMessage{DefaultPluginName: json.RawMessage(cfg)},
			ManagedRoutes: []v1alpha1.MangedRoutes{{Name: "fac"}, {Name: "oru"}, {Name: "mirror"}},
		}}
	return ro
}

const cfgRoute = `{"route":"mllp-listener"}`

func readRoute(t *testing.T, d *dynamicfake.FakeDynamicClient) *api.MLLPRoute {
	t.Helper()
	u, err := d.Resource(api.GroupVersionResource()).Namespace(ns).Get(t.Context(), "mllp-listener", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := api.FromUnstructured(u)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// writes counts update/patch actions on mllproutes.
func writes(d *dynamicfake.FakeDynamicClient) int {
	n := 0
	for _, a := range d.Actions() {
		if (a.GetVerb() == "update" || a.GetVerb() == "patch") && a.GetResource().Resource == api.Resource {
			n++
		}
	}
	return n
}

func replica(name string, gen int64, w int32, age time.Duration) api.ReplicaStatus {
	return api.ReplicaStatus{Name: name, ObservedGeneration: gen, Weight: w, Ready: true, HeartbeatTime: metav1.NewTime(epoch().Add(-age))}
}
