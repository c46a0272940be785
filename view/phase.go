package view

import (
	"fmt"
	"strconv"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Condition reasons Argo's controller writes that turn a Rollout Degraded.
const (
	ReasonRolloutAborted = "RolloutAborted"
	ReasonTimedOut       = "ProgressDeadlineExceeded"
)

// Phase returns the phase and message of a Rollout the way Argo's tools derive them: the
// controller's status.phase when it has observed the current generation, else a phase computed
// from spec and status.
func Phase(ro *v1alpha1.Rollout) (v1alpha1.RolloutPhase, string) {
	if !generationObserved(ro) {
		return v1alpha1.RolloutPhaseProgressing, "waiting for rollout spec update to be observed"
	}
	if ro.Status.ControllerPause && len(ro.Status.PauseConditions) == 0 {
		return v1alpha1.RolloutPhaseProgressing, "waiting for rollout to unpause"
	}
	if ro.Status.Phase != "" {
		return ro.Status.Phase, ro.Status.Message
	}
	return calculatePhase(ro)
}

func generationObserved(ro *v1alpha1.Rollout) bool {
	observed, err := strconv.ParseInt(ro.Status.ObservedGeneration, 10, 64)
	if err != nil {
		return true
	}
	return observed >= ro.Generation
}

func calculatePhase(ro *v1alpha1.Rollout) (v1alpha1.RolloutPhase, string) {
	for _, c := range ro.Status.Conditions {
		if c.Type == v1alpha1.InvalidSpec {
			return v1alpha1.RolloutPhaseDegraded, fmt.Sprintf("%s: %s", v1alpha1.InvalidSpec, c.Message)
		}
		if c.Reason == ReasonRolloutAborted || c.Reason == ReasonTimedOut {
			return v1alpha1.RolloutPhaseDegraded, fmt.Sprintf("%s: %s", c.Reason, c.Message)
		}
	}
	if ro.Spec.Paused {
		return v1alpha1.RolloutPhasePaused, "manually paused"
	}
	if len(ro.Status.PauseConditions) > 0 {
		return v1alpha1.RolloutPhasePaused, string(ro.Status.PauseConditions[0].Reason)
	}
	if ro.Spec.RestartAt != nil && (ro.Status.RestartedAt == nil || !ro.Spec.RestartAt.Equal(ro.Status.RestartedAt)) {
		return v1alpha1.RolloutPhaseProgressing, "rollout is restarting"
	}
	if ro.Status.UpdatedReplicas < DesiredReplicas(ro) {
		return v1alpha1.RolloutPhaseProgressing, "more replicas need to be updated"
	}
	if ro.Status.AvailableReplicas < ro.Status.UpdatedReplicas {
		return v1alpha1.RolloutPhaseProgressing, "updated replicas are still becoming available"
	}
	if c := ro.Spec.Strategy.Canary; c != nil {
		if c.TrafficRouting == nil && ro.Status.Replicas > ro.Status.UpdatedReplicas {
			return v1alpha1.RolloutPhaseProgressing, "old replicas are pending termination"
		}
		if ro.Status.StableRS == "" || !FullyPromoted(ro) {
			return v1alpha1.RolloutPhaseProgressing, "waiting for all steps to complete"
		}
	}
	return v1alpha1.RolloutPhaseHealthy, ""
}

// FullyPromoted reports whether the stable ReplicaSet is the current pod template.
func FullyPromoted(ro *v1alpha1.Rollout) bool {
	return ro.Status.StableRS != "" && ro.Status.StableRS == ro.Status.CurrentPodHash
}

// DesiredReplicas is spec.replicas or 1.
func DesiredReplicas(ro *v1alpha1.Rollout) int32 {
	if ro.Spec.Replicas == nil {
		return 1
	}
	return *ro.Spec.Replicas
}

// Steps returns the canary steps (nil for other strategies).
func Steps(ro *v1alpha1.Rollout) []v1alpha1.CanaryStep {
	if ro.Spec.Strategy.Canary == nil {
		return nil
	}
	return ro.Spec.Strategy.Canary.Steps
}

// CurrentStep returns the current canary step (nil when all steps are done or there are none)
// and its index (nil without steps), as Argo computes them.
func CurrentStep(ro *v1alpha1.Rollout) (*v1alpha1.CanaryStep, *int32) {
	steps := Steps(ro)
	if len(steps) == 0 {
		return nil, nil
	}
	idx := int32(0)
	if ro.Status.CurrentStepIndex != nil {
		idx = *ro.Status.CurrentStepIndex
	}
	if int(idx) >= len(steps) {
		return nil, &idx
	}
	return &steps[idx], &idx
}

// MaxWeight is trafficRouting.maxTrafficWeight or 100.
func MaxWeight(ro *v1alpha1.Rollout) int32 {
	if c := ro.Spec.Strategy.Canary; c != nil && c.TrafficRouting != nil && c.TrafficRouting.MaxTrafficWeight != nil {
		return *c.TrafficRouting.MaxTrafficWeight
	}
	return 100
}

// SetWeight is the weight the current step asks for (Argo's GetCurrentSetWeight).
func SetWeight(ro *v1alpha1.Rollout) int32 {
	if ro.Status.Abort {
		return 0
	}
	step, idx := CurrentStep(ro)
	if step == nil {
		return MaxWeight(ro)
	}
	steps := Steps(ro)
	for i := *idx; i >= 0; i-- {
		if w := steps[i].SetWeight; w != nil {
			return *w
		}
	}
	return 0
}
