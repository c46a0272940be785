package mllpshim

import (
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	dynfake "k8s.io/client-go/dynamic/fake"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

func TestSetAndVerifyWeight(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	route := &api.MLLPRoute{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns", Generation: 1},
		Spec: api.MLLPRouteSpec{Service: "s", StableService: "a", CanaryService: "b"}}
	u, err := api.ToUnstructured(route)
	if err != nil {
		t.Fatal(err)
	}
	gvr := api.GroupVersionResource()
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{gvr: api.ListKind}, u)
	r := New("nerve/mllp", func() (dynamic.Interface, error) { return dyn, nil })
	r.now = func() time.Time { return now }
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "ro", Namespace: "ns"}}
	ro.Spec.Strategy.Canary = &v1alpha1.CanaryStrategy{TrafficRouting: &v1alpha1.RolloutTrafficRouting{
		Plugins: map[string]json.RawMessage{"nerve/mllp": json.RawMessage(`{"route":"r"}`)}}}
	ctx := t.Context()
	if err := r.SetWeight(ctx, ro, 25, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateHash(ctx, ro, "c1", "s1", nil); err != nil {
		t.Fatal(err)
	}
	got, err := dyn.Resource(gvr).Namespace("ns").Get(ctx, "r", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back, err := api.FromUnstructured(got)
	if err != nil {
		t.Fatal(err)
	}
	if back.Spec.Weight != 25 || back.Spec.CanaryHash != "c1" || back.Spec.StableHash != "s1" {
		t.Fatalf("spec %+v", back.Spec)
	}
	if v, err := r.VerifyWeight(ctx, ro, 25, nil); err != nil || v != plugins.NotVerified {
		t.Fatalf("no replica reported yet: %v %v", v, err)
	}
	back.Status.Replicas = []api.ReplicaStatus{{Name: "p", ObservedGeneration: back.Generation, Weight: 25, HeartbeatTime: metav1.NewTime(now)}}
	u2, err := api.ToUnstructured(back)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(gvr).Namespace("ns").Update(ctx, u2, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if v, err := r.VerifyWeight(ctx, ro, 25, nil); err != nil || v != plugins.Verified {
		t.Fatalf("want Verified: %v %v", v, err)
	}
	bad := ro.DeepCopy()
	bad.Spec.Strategy.Canary.TrafficRouting.Plugins = nil
	if err := r.SetWeight(ctx, bad, 5, nil); err == nil {
		t.Fatal("missing plugin config must fail")
	}
}
