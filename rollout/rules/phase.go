package rules

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// Condition reasons Argo's controller writes that turn a Rollout Degraded.
const (
	ReasonRolloutAborted = "RolloutAborted"
	ReasonTimedOut       = "ProgressDeadlineExceeded"
)

// Phase computes status.phase and status.message of ro with status st, as Argo's
// CalculateRolloutPhase does (the controller writes it; tools recompute it).
func Phase(ro *v1alpha1.Rollout, st v1alpha1.RolloutStatus) (v1alpha1.RolloutPhase, string) {
	for _, c := range st.Conditions {
		if c.Type == v1alpha1.InvalidSpec && c.Status != corev1.ConditionFalse {
			return v1alpha1.RolloutPhaseDegraded, string(v1alpha1.InvalidSpec) + ": " + c.Message
		}
		if c.Reason == ReasonRolloutAborted || c.Reason == ReasonTimedOut {
			return v1alpha1.RolloutPhaseDegraded, c.Reason + ": " + c.Message
		}
	}
	switch {
	case ro.Spec.Paused:
		return v1alpha1.RolloutPhasePaused, "manually paused"
	case len(st.PauseConditions) > 0:
		return v1alpha1.RolloutPhasePaused, string(st.PauseConditions[0].Reason)
	case ro.Spec.RestartAt != nil && (st.RestartedAt == nil || !ro.Spec.RestartAt.Equal(st.RestartedAt)):
		return v1alpha1.RolloutPhaseProgressing, "rollout is restarting"
	case st.UpdatedReplicas < canary.Replicas(ro):
		return v1alpha1.RolloutPhaseProgressing, "more replicas need to be updated"
	case st.AvailableReplicas < st.UpdatedReplicas:
		return v1alpha1.RolloutPhaseProgressing, "updated replicas are still becoming available"
	}
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		return blueGreenPhase(bg, st)
	}
	if c := ro.Spec.Strategy.Canary; c != nil {
		if c.TrafficRouting == nil && st.Replicas > st.UpdatedReplicas {
			return v1alpha1.RolloutPhaseProgressing, "old replicas are pending termination"
		}
		if !fullyPromoted(st) {
			return v1alpha1.RolloutPhaseProgressing, "waiting for all steps to complete"
		}
	}
	return v1alpha1.RolloutPhaseHealthy, ""
}

// ObservedPhase is the phase Argo's tools show for a stored Rollout: progressing while the
// controller has not observed the current generation or holds a controller pause without a
// reason, else the controller's status.phase, else Phase.
func ObservedPhase(ro *v1alpha1.Rollout) (v1alpha1.RolloutPhase, string) {
	if !generationObserved(ro) {
		return v1alpha1.RolloutPhaseProgressing, "waiting for rollout spec update to be observed"
	}
	if ro.Status.ControllerPause && len(ro.Status.PauseConditions) == 0 {
		return v1alpha1.RolloutPhaseProgressing, "waiting for rollout to unpause"
	}
	if ro.Status.Phase != "" {
		return ro.Status.Phase, ro.Status.Message
	}
	return Phase(ro, ro.Status)
}

func generationObserved(ro *v1alpha1.Rollout) bool {
	observed, err := strconv.ParseInt(ro.Status.ObservedGeneration, 10, 64)
	if err != nil {
		return true
	}
	return observed >= ro.Generation
}

// FullyPromoted reports whether the stable ReplicaSet is the current pod template.
func FullyPromoted(ro *v1alpha1.Rollout) bool { return fullyPromoted(ro.Status) }

func fullyPromoted(st v1alpha1.RolloutStatus) bool {
	return st.StableRS != "" && st.StableRS == st.CurrentPodHash
}

// blueGreenPhase is the blueGreen tail of Argo's CalculateRolloutPhase: the active Service must
// point at the current pod template, which must then be stable (after post-promotion analysis).
func blueGreenPhase(bg *v1alpha1.BlueGreenStrategy, st v1alpha1.RolloutStatus) (v1alpha1.RolloutPhase, string) {
	if st.BlueGreen.ActiveSelector == "" || st.BlueGreen.ActiveSelector != st.CurrentPodHash {
		return v1alpha1.RolloutPhaseProgressing, "active service cutover pending"
	}
	if !fullyPromoted(st) {
		if post := st.BlueGreen.PostPromotionAnalysisRunStatus; bg.PostPromotionAnalysis != nil && (post == nil || !post.Status.Completed()) {
			return v1alpha1.RolloutPhaseProgressing, "waiting for analysis to complete"
		}
		return v1alpha1.RolloutPhaseProgressing, "waiting for post-promotion verification to complete"
	}
	return v1alpha1.RolloutPhaseHealthy, ""
}
