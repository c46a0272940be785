package proxy

import (
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

func ptr[T any](v T) *T { return &v }

func epSlice(name, svc string, port int32, portName string, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		Ports:      []discoveryv1.EndpointPort{{Name: ptr(portName), Port: ptr(port)}},
		Endpoints:  eps,
	}
}

func ep(ip string, ready *bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ready}}
}

func testWatchState(t *testing.T, objs ...any) *watchState {
	t.Helper()
	si := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	vi := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, o := range objs {
		idx := si
		if _, ok := o.(*corev1.Service); ok {
			idx = vi
		}
		if err := idx.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	return &watchState{slices: discoverylisters.NewEndpointSliceLister(si), services: corelisters.NewServiceLister(vi)}
}

func TestRouteConfigFromSlices(t *testing.T) {
	st := testWatchState(t,
		epSlice("s1", "stable", 2575, "mllp", ep("10.244.0.1", nil), ep("10.244.0.2", ptr(true)), ep("10.244.0.3", ptr(false))),
		epSlice("s2", "stable", 2575, "mllp", ep("10.244.0.4", nil)), // not in the address map: never dialled
		epSlice("c1", "canary", 2575, "mllp", ep("10.244.1.1", nil)),
		epSlice("x1", "shadow", 2575, "mllp", ep("10.244.2.1", nil)),
		epSlice("o1", "other", 9999, "http", ep("10.244.0.1", nil)),
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "shadow", Namespace: "ns", Labels: map[string]string{api.ShadowLabel: "true"}}},
	)
	am, err := ParseAddressMap("10.244.0.1=127.0.0.1:1,10.244.0.2:2575=127.0.0.1:2,10.244.0.3=127.0.0.1:3," +
		"10.244.1.1=127.0.0.1:4,10.244.2.1=127.0.0.1:5")
	if err != nil {
		t.Fatal(err)
	}
	w := &WatchSource{Namespace: "ns", Map: am, Logger: slog.New(slog.DiscardHandler)}
	r := &api.MLLPRoute{ObjectMeta: metav1.ObjectMeta{Generation: 4}, Spec: api.MLLPRouteSpec{Service: "mllp-listener",
		StableService: "stable", CanaryService: "canary", Port: intstr.FromString("mllp"), Weight: 5,
		Mirror: &api.Mirror{Percentage: 10, ShadowService: "shadow"}}}
	cfg := w.routeConfig(st, r)
	want := RouteConfig{Generation: 4, Service: "mllp-listener", Weight: 5,
		Stable: []string{"127.0.0.1:1", "127.0.0.1:2"}, Canary: []string{"127.0.0.1:4"},
		Mirror: &MirrorConfig{Percentage: 10, Targets: []string{"127.0.0.1:5"}, Shadow: true}}
	if d := cmp.Diff(want, cfg); d != "" {
		t.Fatalf("route config (-want +got):\n%s", d)
	}
	r.Spec.Port = intstr.FromInt32(2575)
	if got := w.routeConfig(st, r).Stable; len(got) != 2 {
		t.Fatalf("numeric port: %v", got)
	}
	r.Spec.Port = intstr.FromString("http")
	if got := w.routeConfig(st, r).Stable; len(got) != 0 {
		t.Fatalf("wrong port name must resolve nothing: %v", got)
	}
	r.Spec.Port = intstr.FromString("mllp")
	r.Spec.Mirror.ShadowService = "canary" // no shadow label
	if cfg := w.routeConfig(st, r); cfg.Mirror.Shadow {
		t.Fatal("a Service without the shadow label must not count as shadow")
	}
}
