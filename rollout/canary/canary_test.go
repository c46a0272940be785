package canary

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

func steps(ss ...v1alpha1.CanaryStep) []v1alpha1.CanaryStep { return ss }
func weight(w int32) v1alpha1.CanaryStep                    { return v1alpha1.CanaryStep{SetWeight: ptr.To(w)} }
func pause() v1alpha1.CanaryStep                            { return v1alpha1.CanaryStep{Pause: &v1alpha1.RolloutPause{}} }

func ro(replicas int32, idx *int32, ss []v1alpha1.CanaryStep, traffic bool) *v1alpha1.Rollout {
	r := &v1alpha1.Rollout{Spec: v1alpha1.RolloutSpec{Replicas: ptr.To(replicas),
		Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{Steps: ss}}}}
	if traffic {
		r.Spec.Strategy.Canary.TrafficRouting = &v1alpha1.RolloutTrafficRouting{}
	}
	r.Status.CurrentStepIndex = idx
	r.Status.StableRS, r.Status.CurrentPodHash = "stable", "canary"
	return r
}

func TestCurrentSetWeight(t *testing.T) {
	ss := steps(weight(5), pause(), weight(25), pause(), weight(50))
	cases := []struct {
		name  string
		idx   *int32
		abort bool
		want  int32
	}{
		{"first step", ptr.To[int32](0), false, 5},
		{"pause keeps previous weight", ptr.To[int32](1), false, 5},
		{"second weight", ptr.To[int32](2), false, 25},
		{"after the last step", ptr.To[int32](5), false, 100},
		{"aborted", ptr.To[int32](2), true, 0},
		{"nil index is step 0", nil, false, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ro(4, c.idx, ss, false)
			r.Status.Abort = c.abort
			if got := CurrentSetWeight(r); got != c.want {
				t.Fatalf("got %d want %d", got, c.want)
			}
		})
	}
	if got := CurrentSetWeight(ro(4, ptr.To[int32](0), steps(pause(), weight(10)), false)); got != 0 {
		t.Fatalf("pause before any setWeight: got %d want 0", got)
	}
	r := ro(4, ptr.To[int32](3), ss, true)
	r.Spec.Strategy.Canary.TrafficRouting.MaxTrafficWeight = ptr.To[int32](1000)
	if got := CurrentSetWeight(r); got != 25 {
		t.Fatalf("maxTrafficWeight does not change a set weight: %d", got)
	}
	r.Status.CurrentStepIndex = ptr.To[int32](5)
	if got := CurrentSetWeight(r); got != 1000 {
		t.Fatalf("done with maxTrafficWeight 1000: got %d", got)
	}
}

func TestApproximateCounts(t *testing.T) {
	cases := []struct {
		total, weight, surge int32
		canary, stable       int32
	}{
		{10, 10, 1, 1, 9},
		{10, 30, 3, 3, 7},
		{4, 5, 1, 1, 4},
		{1, 5, 1, 1, 1},
		{1, 95, 1, 1, 1},
		{3, 50, 0, 2, 1},
		{4, 100, 1, 4, 0},
		{4, 0, 1, 0, 4},
		{0, 50, 1, 0, 0},
	}
	for _, c := range cases {
		canary, stable := ApproximateCounts(c.total, c.weight, 100, c.surge)
		if canary != c.canary || stable != c.stable {
			t.Errorf("ApproximateCounts(%d, %d%%, surge %d) = %d/%d, want %d/%d", c.total, c.weight, c.surge, canary, stable, c.canary, c.stable)
		}
	}
}

func rs(name string, spec, avail int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(spec)},
		Status: appsv1.ReplicaSetStatus{Replicas: spec, AvailableReplicas: avail}}
}

func TestBasicCounts(t *testing.T) {
	cases := []struct {
		name                string
		replicas, w         int32
		surge, unavail      string
		newRS, stableRS     *appsv1.ReplicaSet
		wantNew, wantStable int32
	}{
		{"10 at 10%, 1/1", 10, 10, "1", "1", rs("n", 0, 0), rs("s", 10, 10), 1, 9},
		{"10 at 30%, surge 3 unavail 0", 10, 30, "3", "0", rs("n", 0, 0), rs("s", 10, 10), 3, 10},
		{"10 at 30%, surge 0 unavail 5", 10, 30, "0", "5", rs("n", 0, 0), rs("s", 10, 10), 0, 7},
		{"1 at 5%, surge 1 unavail 0", 1, 5, "1", "0", rs("n", 0, 0), rs("s", 1, 1), 1, 1},
		{"scale down stable after canary is available", 10, 30, "3", "0", rs("n", 3, 3), rs("s", 10, 10), 3, 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ro(c.replicas, ptr.To[int32](0), steps(weight(c.w)), false)
			s, u := intstr.Parse(c.surge), intstr.Parse(c.unavail)
			r.Spec.Strategy.Canary.MaxSurge, r.Spec.Strategy.Canary.MaxUnavailable = &s, &u
			n, st := BasicCounts(r, c.newRS, c.stableRS, nil)
			if n != c.wantNew || st != c.wantStable {
				t.Fatalf("got %d/%d want %d/%d", n, st, c.wantNew, c.wantStable)
			}
		})
	}
}

func TestTrafficRoutedCounts(t *testing.T) {
	r := ro(4, ptr.To[int32](0), steps(weight(5), weight(60)), true)
	if n, s := TrafficRoutedCounts(r, rs("n", 0, 0), rs("s", 4, 4), nil); n != 1 || s != 4 {
		t.Fatalf("5%% of 4: %d/%d want 1/4", n, s)
	}
	r.Status.CurrentStepIndex = ptr.To[int32](1)
	r.Spec.Strategy.Canary.DynamicStableScale = true
	w := &v1alpha1.TrafficWeights{Canary: v1alpha1.WeightDestination{Weight: 5}, Stable: v1alpha1.WeightDestination{Weight: 95}}
	if n, s := TrafficRoutedCounts(r, rs("n", 1, 1), rs("s", 4, 4), w); n != 3 || s != 4 {
		t.Fatalf("dynamic at 60%% while stable still has 95%% traffic: %d/%d want 3/4", n, s)
	}
	w.Stable.Weight = 40
	if n, s := TrafficRoutedCounts(r, rs("n", 3, 3), rs("s", 4, 4), w); n != 3 || s != 2 {
		t.Fatalf("dynamic at 60%%: %d/%d want 3/2", n, s)
	}
	r.Spec.Strategy.Canary.Steps = steps(v1alpha1.CanaryStep{SetCanaryScale: &v1alpha1.SetCanaryScale{Replicas: ptr.To[int32](2)}}, weight(10))
	r.Spec.Strategy.Canary.DynamicStableScale = false
	if n, _ := TrafficRoutedCounts(r, rs("n", 0, 0), rs("s", 4, 4), nil); n != 2 {
		t.Fatalf("setCanaryScale replicas 2 (still in force at a later setWeight): %d", n)
	}
	r.Status.PromoteFull = true
	if n, _ := TrafficRoutedCounts(r, rs("n", 0, 0), rs("s", 4, 4), nil); n != 4 {
		t.Fatalf("promoteFull: %d want 4", n)
	}
}

func TestFenceposts(t *testing.T) {
	r := ro(4, nil, nil, false)
	if s, u := Fenceposts(r); s != 1 || u != 1 {
		t.Fatalf("defaults 25%%/25%% of 4: %d/%d", s, u)
	}
	zero := intstr.FromInt32(0)
	r.Spec.Strategy.Canary.MaxSurge, r.Spec.Strategy.Canary.MaxUnavailable = &zero, &zero
	if s, u := Fenceposts(r); s != 0 || u != 1 {
		t.Fatalf("0/0 resolves to 0/1: %d/%d", s, u)
	}
}

func TestPauseDuration(t *testing.T) {
	for in, want := range map[string]string{"30s": "30s", "5m": "5m0s", "10": "10s"} {
		d, ok, err := PauseDuration(&v1alpha1.RolloutPause{Duration: ptr.To(intstr.FromString(in))})
		if err != nil || !ok || d.String() != want {
			t.Errorf("%s: %v %v %v", in, d, ok, err)
		}
	}
	d, ok, _ := PauseDuration(&v1alpha1.RolloutPause{Duration: ptr.To(intstr.FromInt32(2))})
	if !ok || d.Seconds() != 2 {
		t.Errorf("int 2: %v", d)
	}
	if _, ok, _ := PauseDuration(&v1alpha1.RolloutPause{}); ok {
		t.Error("indefinite pause reported a duration")
	}
	if _, _, err := PauseDuration(&v1alpha1.RolloutPause{Duration: ptr.To(intstr.FromString("soon"))}); err == nil {
		t.Error("bad duration accepted")
	}
}

func TestBeforeStartingStep(t *testing.T) {
	r := ro(1, ptr.To[int32](1), steps(weight(10), pause(), weight(50)), false)
	r.Spec.Strategy.Canary.Analysis = &v1alpha1.RolloutAnalysisBackground{StartingStep: ptr.To[int32](2)}
	if !BeforeStartingStep(r) {
		t.Fatal("index 1 < startingStep 2")
	}
	r.Status.CurrentStepIndex = ptr.To[int32](2)
	if BeforeStartingStep(r) {
		t.Fatal("index 2 reached startingStep 2")
	}
}
