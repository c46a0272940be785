package canary

import (
	"math"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Replicas is spec.replicas, default 1.
func Replicas(ro *v1alpha1.Rollout) int32 {
	if ro.Spec.Replicas == nil {
		return 1
	}
	return *ro.Spec.Replicas
}

// Fenceposts resolves maxSurge (rounded up, default 25%) and maxUnavailable (rounded down,
// default 25%); when both resolve to 0, maxUnavailable becomes 1.
func Fenceposts(ro *v1alpha1.Rollout) (surge, unavailable int32) {
	desired := Replicas(ro)
	def := intstr.FromString("25%")
	s, u := &def, &def
	if c := ro.Spec.Strategy.Canary; c != nil {
		if c.MaxSurge != nil {
			s = c.MaxSurge
		}
		if c.MaxUnavailable != nil {
			u = c.MaxUnavailable
		}
	}
	sv, err := intstr.GetScaledValueFromIntOrPercent(s, int(desired), true)
	if err != nil {
		sv = 0
	}
	uv, err := intstr.GetScaledValueFromIntOrPercent(u, int(desired), false)
	if err != nil {
		uv = 0
	}
	if sv == 0 && uv == 0 {
		uv = 1
	}
	if int32(uv) > desired {
		uv = int(desired)
	}
	return int32(sv), int32(uv)
}

func specReplicas(rs *appsv1.ReplicaSet) int32 {
	if rs == nil || rs.Spec.Replicas == nil {
		return 0
	}
	return *rs.Spec.Replicas
}

func available(rs *appsv1.ReplicaSet) int32 {
	if rs == nil {
		return 0
	}
	return rs.Status.AvailableReplicas
}

// SumSpec sums spec.replicas.
func SumSpec(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += specReplicas(rs)
	}
	return n
}

// SumAvailable sums status.availableReplicas.
func SumAvailable(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += available(rs)
	}
	return n
}

// StableDistinct reports whether a stable ReplicaSet exists and is not the new one.
func StableDistinct(newRS, stableRS *appsv1.ReplicaSet) bool {
	return stableRS != nil && (newRS == nil || newRS.Name != stableRS.Name)
}

// WeightToReplicas is ceil(weight*replicas/maxWeight).
func WeightToReplicas(replicas, weight, maxWeight int32) int32 {
	return int32(math.Ceil(float64(weight) * float64(replicas) / float64(maxWeight)))
}

// ReplicasOrWeight returns an explicit canary replica count (setCanaryScale.replicas) or the
// weight the canary should be scaled to.
func ReplicasOrWeight(ro *v1alpha1.Rollout, newRS, stableRS *appsv1.ReplicaSet) (*int32, int32) {
	if ro.Status.PromoteFull || ro.Status.StableRS == "" || ro.Status.CurrentPodHash == ro.Status.StableRS {
		return nil, MaxWeight(ro)
	}
	if s := ActiveCanaryScale(ro); s != nil {
		if s.Replicas != nil {
			return s.Replicas, 0
		}
		if s.Weight != nil {
			return nil, *s.Weight
		}
	}
	return nil, DesiredWeight(ro, newRS, stableRS)
}

// DesiredWeight is the current setWeight, except that an aborted dynamicStableScale rollout
// steps the weight down through the setWeight steps as stable capacity returns.
func DesiredWeight(ro *v1alpha1.Rollout, newRS, stableRS *appsv1.ReplicaSet) int32 {
	c := ro.Spec.Strategy.Canary
	if !(ro.Status.Abort && c != nil && c.DynamicStableScale && newRS != nil && stableRS != nil) {
		return CurrentSetWeight(ro)
	}
	maxW, total := MaxWeight(ro), Replicas(ro)
	expected := total - available(stableRS)
	canaryReplicas := max(expected, available(newRS))
	if c.AbortScaleDownDelaySeconds != nil {
		canaryReplicas = expected
	}
	for i := len(c.Steps) - 1; i >= 0; i-- {
		if w := c.Steps[i].SetWeight; w != nil && WeightToReplicas(total, *w, maxW) < canaryReplicas {
			return *w
		}
	}
	return 0
}

// MinPods raises a non-zero count to minPodsPerReplicaSet (trafficRouting only).
func MinPods(ro *v1alpha1.Rollout, count int32) int32 {
	c := ro.Spec.Strategy.Canary
	if count == 0 || c == nil || c.MinPodsPerReplicaSet == nil || c.TrafficRouting == nil {
		return count
	}
	return max(count, min(*c.MinPodsPerReplicaSet, Replicas(ro)))
}

// TrafficRoutedCounts returns the desired canary and stable replica counts with trafficRouting:
// the canary follows the weight, the stable stays at full scale unless dynamicStableScale.
func TrafficRoutedCounts(ro *v1alpha1.Rollout, newRS, stableRS *appsv1.ReplicaSet, weights *v1alpha1.TrafficWeights) (int32, int32) {
	total, maxW := Replicas(ro), MaxWeight(ro)
	explicit, weight := ReplicasOrWeight(ro, newRS, stableRS)
	canary := MinPods(ro, WeightToReplicas(total, weight, maxW))
	if explicit != nil {
		canary = *explicit
	}
	if !ro.Spec.Strategy.Canary.DynamicStableScale {
		return canary, total
	}
	stable := WeightToReplicas(total, maxW-weight, maxW)
	if weights != nil {
		stable = max(stable, WeightToReplicas(total, weights.Stable.Weight, maxW))
		if ro.Status.Abort {
			canary = max(canary, WeightToReplicas(total, weights.Canary.Weight, maxW))
		}
	}
	return MinPods(ro, canary), MinPods(ro, stable)
}
