package api

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestWeightThreshold(t *testing.T) {
	tests := []struct {
		w, max int32
		want   uint32
	}{
		{0, 100, 0}, {5, 100, 500}, {50, 100, 5000}, {100, 100, Buckets}, {150, 100, Buckets},
		{1, 1000, 10}, {-1, 100, 0}, {5, 0, 500},
	}
	for _, tc := range tests {
		if got := WeightThreshold(tc.w, tc.max); got != tc.want {
			t.Errorf("WeightThreshold(%d,%d)=%d want %d", tc.w, tc.max, got, tc.want)
		}
	}
}

func TestFreshAndApplied(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	r := &MLLPRoute{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	if Applied(r, 5, now) {
		t.Fatal("no replicas must not count as applied")
	}
	r.Status.Replicas = []ReplicaStatus{
		{Name: "a", ObservedGeneration: 3, Weight: 5, HeartbeatTime: metav1.NewTime(now.Add(-time.Second))},
		{Name: "dead", ObservedGeneration: 1, Weight: 0, HeartbeatTime: metav1.NewTime(now.Add(-HeartbeatFreshness - time.Second))},
	}
	if got := len(r.Status.FreshReplicas(now)); got != 1 {
		t.Fatalf("fresh=%d want 1", got)
	}
	if !Applied(r, 5, now) {
		t.Fatal("want applied: stale replica must not count")
	}
	if Applied(r, 25, now) {
		t.Fatal("weight 25 not applied")
	}
	r.Generation = 4
	if Applied(r, 5, now) {
		t.Fatal("generation 4 not observed")
	}
}

func TestValidate(t *testing.T) {
	ok := MLLPRouteSpec{Service: "s", StableService: "a", Weight: 5}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []MLLPRouteSpec{
		{StableService: "a"},
		{Service: "s", StableService: "a", Weight: 101},
		{Service: "s", StableService: "a", StickyKey: "x"},
		{Service: "s", StableService: "a", Matches: []Match{{Field: "PID-3", Exact: "x"}}},
		{Service: "s", StableService: "a", Matches: []Match{{Field: FieldMSH4, Exact: "x", Prefix: "y"}}},
		{Service: "s", StableService: "a", Mirror: &Mirror{Percentage: 10}},
	}
	for i, s := range bad {
		if s.Validate() == nil {
			t.Errorf("case %d: want error", i)
		}
	}
}

func TestUnstructuredRoundTrip(t *testing.T) {
	r := &MLLPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns"},
		Spec: MLLPRouteSpec{Service: "mllp-listener", StableService: "s", CanaryService: "c",
			Port: intstr.FromString("mllp"), Weight: 5, Matches: []Match{{Field: FieldMSH9, Prefix: "ORU^"}},
			Mirror: &Mirror{Percentage: 10, ShadowService: "sh"}},
		Status: MLLPRouteStatus{Replicas: []ReplicaStatus{{Name: "p0", Weight: 5, StableMessages: 7}}},
	}
	u, err := ToUnstructured(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromUnstructured(u)
	if err != nil {
		t.Fatal(err)
	}
	back.TypeMeta = r.TypeMeta
	if d := cmp.Diff(r, back); d != "" {
		t.Fatal(d)
	}
	c := r.DeepCopy()
	c.Spec.Matches[0].Prefix = "ADT^"
	c.Spec.Mirror.Percentage = 1
	c.Status.Replicas[0].Name = "x"
	if r.Spec.Matches[0].Prefix != "ORU^" || r.Spec.Mirror.Percentage != 10 || r.Status.Replicas[0].Name != "p0" {
		t.Fatal("DeepCopy shares memory")
	}
}

func TestReplicaApplyPatch(t *testing.T) {
	u, err := ReplicaApplyPatch("ns", "r", &ReplicaStatus{Name: "p0", Weight: 5})
	if err != nil {
		t.Fatal(err)
	}
	reps := u.Object["status"].(map[string]any)["replicas"].([]any)
	if len(reps) != 1 || reps[0].(map[string]any)["name"] != "p0" {
		t.Fatalf("bad patch %v", u.Object)
	}
	u, _ = ReplicaApplyPatch("ns", "r", nil)
	if reps := u.Object["status"].(map[string]any)["replicas"].([]any); len(reps) != 0 {
		t.Fatal("removal patch must have an empty list")
	}
}
