package rollout

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
	"github.com/nerve-rollouts/nerve/rollout/rules"
)

// Condition reasons and messages as Argo writes them (utils/conditions).
const (
	reasonAvailable        = "AvailableReason"
	reasonReplicaSetUpdate = "ReplicaSetUpdated"
	reasonNewRSAvailable   = "NewReplicaSetAvailable"
	reasonPaused           = "RolloutPaused"
	reasonResumed          = "RolloutResumed"
	reasonAborted          = rules.ReasonRolloutAborted
	reasonTimedOut         = rules.ReasonTimedOut
	reasonCompleted        = "RolloutCompleted"
	reasonNotCompleted     = "RolloutNotCompleted"
	reasonHealthy          = "RolloutHealthy"
	reasonInvalidSpec      = "InvalidSpec"
	reasonReconcileError   = "ReconciliationError"
	reasonRSCreateError    = "ReplicaSetCreateError"
)

func getCond(st *v1alpha1.RolloutStatus, t v1alpha1.RolloutConditionType) *v1alpha1.RolloutCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

// setCond sets a condition; lastTransitionTime moves only when the status flips, and nothing
// changes when status, reason and message are the same (unless touch).
func (rc *rolloutCtx) setCond(t v1alpha1.RolloutConditionType, s corev1.ConditionStatus, reason, msg string, touch bool) {
	now := metav1.NewTime(rc.c.now())
	if c := getCond(&rc.status, t); c != nil {
		if c.Status == s && c.Reason == reason && c.Message == msg && !touch {
			return
		}
		if c.Status != s {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason, c.Message, c.LastUpdateTime = s, reason, msg, now
		return
	}
	rc.status.Conditions = append(rc.status.Conditions, v1alpha1.RolloutCondition{
		Type: t, Status: s, Reason: reason, Message: msg, LastUpdateTime: now, LastTransitionTime: now})
}

func (rc *rolloutCtx) dropCond(t v1alpha1.RolloutConditionType) {
	out := rc.status.Conditions[:0]
	for _, c := range rc.status.Conditions {
		if c.Type != t {
			out = append(out, c)
		}
	}
	rc.status.Conditions = out
}

func boolCond(b bool) corev1.ConditionStatus {
	if b {
		return corev1.ConditionTrue
	}
	return corev1.ConditionFalse
}

// updateConditions writes Available, Progressing, Paused, Completed and Healthy.
func (rc *rolloutCtx) updateConditions(progressed bool) {
	st := &rc.status
	total := canary.Replicas(rc.ro)
	avail := rc.minimumAvailable()
	if avail {
		rc.setCond(v1alpha1.RolloutAvailable, corev1.ConditionTrue, reasonAvailable, "Rollout has minimum availability", false)
	} else {
		rc.setCond(v1alpha1.RolloutAvailable, corev1.ConditionFalse, reasonAvailable, "Rollout does not have minimum availability", false)
	}
	paused := rc.ro.Spec.Paused || len(st.PauseConditions) > 0
	if paused {
		rc.setCond(v1alpha1.RolloutPaused, corev1.ConditionTrue, reasonPaused, "Rollout is paused", false)
	} else if getCond(st, v1alpha1.RolloutPaused) != nil {
		rc.setCond(v1alpha1.RolloutPaused, corev1.ConditionFalse, reasonResumed, "Rollout is resumed", false)
	}
	rc.updateProgressing(paused, progressed)
	completed := st.StableRS != "" && st.StableRS == st.CurrentPodHash
	rev := revisionOf(rc.ro)
	if completed {
		rc.setCond(v1alpha1.RolloutCompleted, corev1.ConditionTrue, reasonCompleted, "Rollout completed update to revision "+fmt.Sprint(rev)+" ("+st.CurrentPodHash+"): Rollout is Completed", false)
	} else {
		rc.setCond(v1alpha1.RolloutCompleted, corev1.ConditionFalse, reasonNotCompleted, fmt.Sprintf("Rollout not completed, started update to revision %d (%s)", rev, st.CurrentPodHash), false)
	}
	healthy := completed && avail && st.UpdatedReplicas == total && st.AvailableReplicas >= total && !st.Abort && blueGreenSwitched(rc.ro, st)
	if healthy {
		rc.setCond(v1alpha1.RolloutHealthy, corev1.ConditionTrue, reasonHealthy, "Rollout is healthy", false)
	} else {
		rc.setCond(v1alpha1.RolloutHealthy, corev1.ConditionFalse, reasonHealthy, "Rollout is not healthy", false)
	}
}

// minimumAvailable is Argo's Available condition: for blueGreen the ReplicaSet the active Service
// selects is saturated; for canary enough pods are available within maxUnavailable.
func (rc *rolloutCtx) minimumAvailable() bool {
	st := &rc.status
	if rc.ro.Spec.Strategy.BlueGreen != nil {
		return saturated(rc.ro, rsByHash(rc.all, st.BlueGreen.ActiveSelector))
	}
	_, unavailable := canary.Fenceposts(rc.ro)
	return st.AvailableReplicas >= canary.Replicas(rc.ro)-unavailable
}

// blueGreenSwitched: for blueGreen, the active (and preview, if any) Service select the current
// pod template (part of Argo's RolloutHealthy); always true for canary.
func blueGreenSwitched(ro *v1alpha1.Rollout, st *v1alpha1.RolloutStatus) bool {
	bg := ro.Spec.Strategy.BlueGreen
	if bg == nil {
		return true
	}
	return st.BlueGreen.ActiveSelector == st.CurrentPodHash && (bg.PreviewService == "" || st.BlueGreen.PreviewSelector == st.CurrentPodHash)
}

func (rc *rolloutCtx) updateProgressing(paused, progressed bool) {
	st := &rc.status
	rsName := ""
	if rc.newRS != nil {
		rsName = rc.newRS.Name
	}
	cur := getCond(st, v1alpha1.RolloutProgressing)
	switch {
	case st.Abort:
		msg := fmt.Sprintf("Rollout aborted update to revision %d", revisionOf(rc.ro))
		if rc.abortMsg != "" {
			msg += ": " + rc.abortMsg
		} else if cur != nil && cur.Reason == reasonAborted {
			msg = cur.Message
		}
		rc.setCond(v1alpha1.RolloutProgressing, corev1.ConditionFalse, reasonAborted, msg, false)
	case st.StableRS != "" && st.StableRS == st.CurrentPodHash && st.AvailableReplicas >= canary.Replicas(rc.ro):
		rc.setCond(v1alpha1.RolloutProgressing, corev1.ConditionTrue, reasonNewRSAvailable, fmt.Sprintf("ReplicaSet %q has successfully progressed.", rsName), false)
	case paused:
		rc.setCond(v1alpha1.RolloutProgressing, corev1.ConditionUnknown, reasonPaused, "Rollout is paused", false)
	case cur != nil && cur.Reason == reasonTimedOut && !progressed:
	case rc.timedOut(cur, progressed):
		rc.setCond(v1alpha1.RolloutProgressing, corev1.ConditionFalse, reasonTimedOut, fmt.Sprintf("ReplicaSet %q has timed out progressing.", rsName), false)
		rc.event("Warning", reasonTimedOut, "Rollout %q has timed out progressing.", rc.ro.Name)
		if rc.ro.Spec.ProgressDeadlineAbort {
			rc.abort(fmt.Sprintf("ReplicaSet %q has timed out progressing.", rsName))
		}
	default:
		rc.setCond(v1alpha1.RolloutProgressing, corev1.ConditionTrue, reasonReplicaSetUpdate, fmt.Sprintf("ReplicaSet %q is progressing.", rsName), progressed)
	}
}

// timedOut: no progress for progressDeadlineSeconds (default 600) while progressing.
func (rc *rolloutCtx) timedOut(cur *v1alpha1.RolloutCondition, progressed bool) bool {
	if progressed || cur == nil || cur.Reason != reasonReplicaSetUpdate {
		return false
	}
	if run := rc.status.Canary.CurrentStepAnalysisRunStatus; run != nil && !run.Status.Completed() {
		// a step analysis in progress is progress: its own limits decide when it fails
		return false
	}
	secs := int32(DefaultProgressDeadlineSeconds)
	if p := rc.ro.Spec.ProgressDeadlineSeconds; p != nil {
		secs = *p
	}
	deadline := cur.LastUpdateTime.Add(secondsDur(secs))
	if rc.c.now().After(deadline) {
		return true
	}
	rc.requeueAt(deadline.Add(secondsDur(1)))
	return false
}

func reconcileErrMsg(err error) string {
	return strings.TrimSpace(fmt.Sprintf("Reconciliation failed with error: %v", err))
}
