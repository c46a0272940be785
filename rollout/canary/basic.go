package canary

import (
	"math"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// BasicCounts returns the canary and stable replica counts for one reconcile of a basic canary
// (no trafficRouting), where the replica ratio is the traffic split. It moves toward the weight's
// ideal counts within maxSurge and maxUnavailable: first scale up (stable first), then scale
// down whichever side is shrinking, never below spec.replicas-maxUnavailable available pods.
func BasicCounts(ro *v1alpha1.Rollout, newRS, stableRS *appsv1.ReplicaSet, others []*appsv1.ReplicaSet) (int32, int32) {
	total := Replicas(ro)
	_, weight := ReplicasOrWeight(ro, newRS, stableRS)
	surge, unavailable := Fenceposts(ro)
	wantNew, wantStable := ApproximateCounts(total, weight, MaxWeight(ro), surge)

	newCount, stableCount := specReplicas(newRS), int32(0)
	hasStable := StableDistinct(newRS, stableRS)
	all := append(append([]*appsv1.ReplicaSet{}, others...), newRS)
	if hasStable {
		stableCount = specReplicas(stableRS)
		all = append(all, stableRS)
	} else {
		wantNew, wantStable = total, 0
	}
	maxAllowed := total + surge
	room := maxAllowed - SumSpec(all)
	if hasStable && stableCount < wantStable && room > 0 {
		grow := min(room, wantStable-stableCount)
		stableCount += grow
		room -= grow
	}
	if newRS != nil && newCount < wantNew && room > 0 {
		newCount += min(room, wantNew-newCount)
	}
	if SumSpec(others) > 0 {
		return newCount, stableCount
	}
	minAvailable := total - unavailable
	increasing := newRS == nil || wantNew >= specReplicas(newRS)
	scalable := replicasForScaleDown(newRS, !increasing) + replicasForScaleDown(stableRS, increasing)
	if scalable <= minAvailable {
		return newCount, stableCount
	}
	down := scalable - minAvailable
	if !increasing {
		newCount = drainTo(newRS, wantNew, down, newCount)
		return adjustWithinLimits(newRS, stableRS, newCount, stableCount, maxAllowed, minAvailable)
	}
	if hasStable {
		stableCount = drainTo(stableRS, wantStable, down, stableCount)
		stableCount, newCount = adjustWithinLimits(stableRS, newRS, stableCount, newCount, maxAllowed, minAvailable)
	}
	return newCount, stableCount
}

// replicasForScaleDown counts the replicas of rs that may be scaled down: spec when it is
// already shrinking or availability is ignored, otherwise the available ones.
func replicasForScaleDown(rs *appsv1.ReplicaSet, ignoreAvailability bool) int32 {
	if rs == nil {
		return 0
	}
	if specReplicas(rs) < rs.Status.AvailableReplicas || ignoreAvailability {
		return specReplicas(rs)
	}
	return rs.Status.AvailableReplicas
}

func drainTo(rs *appsv1.ReplicaSet, want, down, current int32) int32 {
	if rs != nil && specReplicas(rs) > want {
		return max(want, specReplicas(rs)-down)
	}
	return current
}

// adjustWithinLimits trims the adjusted side back under maxSurge, gives back availability lost
// by that trim, and takes any remaining excess from the draining side.
func adjustWithinLimits(drain, adjust *appsv1.ReplicaSet, drainCount, adjustCount, maxAllowed, minAvailable int32) (int32, int32) {
	if adjust == nil {
		return drainCount, adjustCount
	}
	over := max(0, adjustCount+drainCount-maxAllowed)
	avail := int32(0)
	if drain != nil {
		avail = min(drain.Status.AvailableReplicas, drainCount)
	}
	adjustCount -= over
	avail += min(adjust.Status.AvailableReplicas, adjustCount)
	extra := max(0, adjust.Status.AvailableReplicas-adjustCount)
	need := max(0, minAvailable-avail)
	adjustCount += min(extra, need)
	over = max(0, adjustCount+drainCount-maxAllowed)
	return drainCount - over, adjustCount
}

// ApproximateCounts picks the canary/stable counts whose ratio best matches weight/maxWeight,
// using spec.replicas or (with surge) spec.replicas+1 pods in total. A weight strictly between 0
// and max never yields 0 canaries with 2+ pods; ties round the canary up.
func ApproximateCounts(total, weight, maxWeight, surge int32) (int32, int32) {
	if total == 0 {
		return 0, 0
	}
	type option struct{ canary, total int32 }
	exact := float64(total*weight) / float64(maxWeight)
	ceil, floor := int32(math.Ceil(exact)), int32(math.Floor(exact))
	zeroOK := weight == maxWeight || weight == 0 || (total == 1 && surge == 0)
	var opts []option
	if ceil < total || zeroOK {
		opts = append(opts, option{ceil, total})
	}
	if !tied(weight, maxWeight, total) && (floor != 0 || zeroOK) {
		opts = append(opts, option{floor, total})
	}
	if surge > 0 {
		opts = append(opts, option{ceil, total + 1})
		if !tied(weight, maxWeight, total+1) && (floor != 0 || zeroOK) {
			opts = append(opts, option{floor, total + 1})
		}
	}
	if len(opts) == 0 {
		return 0, total
	}
	best := opts[0]
	for _, o := range opts[1:] {
		if delta(weight, maxWeight, o.canary, o.total) < delta(weight, maxWeight, best.canary, best.total) {
			best = o
		}
	}
	return best.canary, best.total - best.canary
}

func tied(weight, maxWeight, total int32) bool {
	_, frac := math.Modf(float64(total) * (float64(weight) / float64(maxWeight)))
	return frac == 0.5
}

func delta(weight, maxWeight, canary, total int32) float64 {
	return math.Abs(float64(canary*maxWeight)/float64(total) - float64(weight))
}

// AtDesiredCounts reports whether the ReplicaSets reached the counts the current step asks for:
// the canary fully available, the stable created (unless dynamicStableScale), and for a basic
// canary no older ReplicaSet still serving.
func AtDesiredCounts(ro *v1alpha1.Rollout, newRS, stableRS *appsv1.ReplicaSet, others []*appsv1.ReplicaSet, weights *v1alpha1.TrafficWeights) bool {
	c := ro.Spec.Strategy.Canary
	var wantNew, wantStable int32
	if c.TrafficRouting == nil {
		wantNew, wantStable = BasicCounts(ro, newRS, stableRS, others)
	} else {
		wantNew, wantStable = TrafficRoutedCounts(ro, newRS, stableRS, weights)
	}
	if newRS == nil || specReplicas(newRS) != wantNew || newRS.Status.AvailableReplicas != wantNew {
		return false
	}
	if c.TrafficRouting == nil || !c.DynamicStableScale {
		if stableRS != nil && (specReplicas(stableRS) != wantStable || stableRS.Status.Replicas != wantStable) {
			return false
		}
	}
	return c.TrafficRouting != nil || SumAvailable(others) == 0
}
