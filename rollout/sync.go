package rollout

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// rolloutCtx is the state of one reconcile of one Rollout.
type rolloutCtx struct {
	c      *Controller
	ro     *v1alpha1.Rollout // a deep copy of the stored object; status is the old status
	status v1alpha1.RolloutStatus

	newRS, stableRS *appsv1.ReplicaSet
	others, all     []*appsv1.ReplicaSet

	abortMsg string
	requeue  time.Duration
}

func (rc *rolloutCtx) requeueAfter(d time.Duration) {
	if d <= 0 {
		d = time.Millisecond
	}
	if rc.requeue == 0 || d < rc.requeue {
		rc.requeue = d
	}
}

func (rc *rolloutCtx) requeueAt(t time.Time) { rc.requeueAfter(t.Sub(rc.c.now())) }

func (rc *rolloutCtx) event(typ, reason, format string, args ...any) {
	rc.c.recorder.Eventf(rc.ro, typ, reason, format, args...)
	rc.c.metrics.countEvent(rc.ro.Namespace, rc.ro.Name, typ, reason)
}

func secondsDur(s int32) time.Duration { return time.Duration(s) * time.Second }

// syncRollout is the idempotent reconcile of one Rollout.
func (c *Controller) syncRollout(ctx context.Context, ref cache.ObjectName) (time.Duration, error) {
	obj, exists, err := c.rollouts.GetIndexer().GetByKey(ref.String())
	if err != nil || !exists {
		return 0, err
	}
	stored := obj.(*v1alpha1.Rollout)
	if stored.DeletionTimestamp != nil {
		return 0, nil
	}
	start := c.now()
	rc := &rolloutCtx{c: c, ro: stored.DeepCopy()}
	rc.status = *rc.ro.Status.DeepCopy()
	err = rc.reconcile(ctx)
	if err != nil && !apierrors.IsConflict(err) {
		rc.event("Warning", reasonReconcileError, "%s", reconcileErrMsg(err))
	}
	c.metrics.observeRollout(rc.resultView(), c.now().Sub(start), err)
	return rc.requeue, err
}

func (rc *rolloutCtx) resultView() *v1alpha1.Rollout {
	ro := rc.ro.DeepCopy()
	ro.Status = rc.status
	return ro
}

func (rc *rolloutCtx) reconcile(ctx context.Context) error {
	ro := rc.ro
	podHash, err := PodTemplateHash(&ro.Spec.Template, ro.Status.CollisionCount)
	if err != nil {
		return err
	}
	rss, err := rc.c.replicaSetsOf(ro)
	if err != nil {
		return err
	}
	rc.classify(rss, podHash)
	rc.baseStatus()
	if msg := rc.validate(podHash); msg != "" {
		return rc.invalid(ctx, msg)
	}
	rc.dropCond(v1alpha1.InvalidSpec)
	if err := rc.ensureNewRS(ctx, podHash); err != nil {
		return rc.persistAnd(ctx, err)
	}
	if err := rc.syncRevisionAnnotation(ctx); err != nil {
		return err
	}
	if ro.Status.CurrentPodHash != podHash || ro.Status.CurrentStepHash != StepHash(ro) {
		rc.resetForNewRevision(podHash)
		return rc.persist(ctx)
	}
	return rc.persistAnd(ctx, rc.progress(ctx))
}

// progress runs the canary machinery in Argo's order; the status is persisted by the caller
// whatever happens, so that partial progress (weights, pauses, aborts) is recorded.
func (rc *rolloutCtx) progress(ctx context.Context) error {
	rc.retryIfRequested()
	if err := rc.reconcileRestart(ctx); err != nil {
		return err
	}
	if err := rc.reconcileRevisionHistory(ctx); err != nil {
		return err
	}
	if err := rc.reconcileServices(ctx); err != nil {
		return err
	}
	if err := rc.reconcileTraffic(ctx); err != nil {
		return err
	}
	if err := rc.reconcileAnalysis(ctx); err != nil {
		return err
	}
	if hasPause(rc.status.PauseConditions, v1alpha1.PauseReasonInconclusiveAnalysis) && !hasPause(rc.ro.Status.PauseConditions, v1alpha1.PauseReasonInconclusiveAnalysis) {
		rc.finishStatus()
		return nil
	}
	scaled, err := rc.reconcileReplicaSets(ctx)
	if err != nil {
		return err
	}
	if !scaled {
		rc.reconcilePauseStep()
	}
	rc.finishStatus()
	return nil
}

// baseStatus fills the observed fields of the new status.
func (rc *rolloutCtx) baseStatus() {
	st := &rc.status
	st.ObservedGeneration = strconv.FormatInt(rc.ro.Generation, 10)
	if rc.ro.Spec.Selector != nil {
		st.Selector = metav1.FormatLabelSelector(rc.ro.Spec.Selector)
	}
	st.Replicas, st.ReadyReplicas, st.AvailableReplicas, st.HPAReplicas, st.UpdatedReplicas = 0, 0, 0, 0, 0
	for _, rs := range rc.all {
		st.Replicas += rs.Status.Replicas
		st.ReadyReplicas += rs.Status.ReadyReplicas
		st.AvailableReplicas += rs.Status.AvailableReplicas
		st.HPAReplicas += rs.Status.Replicas
	}
	if rc.newRS != nil {
		st.UpdatedReplicas = rc.newRS.Status.Replicas
	}
}

// invalid records InvalidSpec (condition, event, phase) and stops.
func (rc *rolloutCtx) invalid(ctx context.Context, msg string) error {
	prev := getCond(&rc.ro.Status, v1alpha1.InvalidSpec)
	if prev == nil || prev.Message != msg {
		rc.event("Warning", reasonInvalidSpec, "%s", msg)
	}
	rc.setCond(v1alpha1.InvalidSpec, corev1.ConditionTrue, reasonInvalidSpec, msg, false)
	return rc.persist(ctx)
}

// resetForNewRevision starts a new revision: steps from 0, pauses, abort and analysis cleared.
// Going back to the stable template skips the steps; the very first revision is stable at once.
func (rc *rolloutCtx) resetForNewRevision(podHash string) {
	st := &rc.status
	steps := int32(len(canary.Steps(rc.ro)))
	st.CurrentPodHash, st.CurrentStepHash = podHash, StepHash(rc.ro)
	st.PauseConditions, st.ControllerPause, st.Abort, st.AbortedAt, st.PromoteFull = nil, false, false, nil, false
	st.Canary.CurrentStepAnalysisRunStatus, st.Canary.CurrentBackgroundAnalysisRunStatus = nil, nil
	st.CurrentStepIndex = nil
	if steps > 0 {
		st.CurrentStepIndex = ptr.To[int32](0)
	}
	switch {
	case st.StableRS == "":
		st.StableRS = podHash
		if steps > 0 {
			st.CurrentStepIndex = &steps
		}
	case st.StableRS == podHash && steps > 0:
		rc.event("Normal", "SkipSteps", "Rollback to stable ReplicaSets")
		st.CurrentStepIndex = &steps
	}
	rev := revisionOf(rc.newRS)
	rc.event("Normal", "RolloutUpdated", "Rollout updated to revision %d", rev)
	rc.updateConditions(true)
	st.Phase, st.Message = phase(rc.ro, *st)
	rc.requeueAfter(10 * time.Millisecond)
}

// retryIfRequested notices `retry` (status.abort set back to false) after an abort.
func (rc *rolloutCtx) retryIfRequested() {
	if !rc.ro.Status.Abort && rc.ro.Status.AbortedAt != nil {
		rc.status.AbortedAt = nil
		rc.event("Normal", "RolloutRetry", "Retrying Rollout after abort")
	}
}

// finishStatus advances steps, promotes or records the abort, as Argo's syncRolloutStatusCanary.
func (rc *rolloutCtx) finishStatus() {
	st := &rc.status
	steps := int32(len(canary.Steps(rc.ro)))
	_, idx := canary.CurrentStep(rc.ro)
	if rc.ro.Status.PromoteFull {
		st.PauseConditions, st.ControllerPause, st.Abort, st.AbortedAt = nil, false, false, nil
		if steps > 0 {
			idx = &steps
		}
	}
	switch {
	case rc.promotionReason(idx, steps) != "":
		rc.promote(rc.promotionReason(idx, steps), steps)
	case st.Abort:
		st.PauseConditions, st.ControllerPause = nil, false
		if steps > 0 {
			if st.StableRS == st.CurrentPodHash {
				st.CurrentStepIndex = &steps
			} else {
				st.CurrentStepIndex = ptr.To[int32](0)
			}
		}
		if !rc.ro.Status.Abort {
			rc.event("Warning", reasonAborted, "Rollout aborted update to revision %d", revisionOf(rc.ro))
		}
	default:
		st.CurrentStepIndex = rc.advance(idx, steps)
	}
	rc.updateConditions(rc.progressed())
	st.Phase, st.Message = phase(rc.ro, *st)
}

// advance moves past the current step when it is complete.
func (rc *rolloutCtx) advance(idx *int32, steps int32) *int32 {
	if idx == nil || *idx >= steps || !rc.stepComplete() {
		return idx
	}
	step := canary.Steps(rc.ro)[*idx]
	next := *idx + 1
	rc.status.Canary.CurrentStepAnalysisRunStatus = nil
	rc.removePause(v1alpha1.PauseReasonCanaryPauseStep)
	if len(rc.status.PauseConditions) == 0 {
		rc.status.ControllerPause = false
	}
	rc.event("Normal", "RolloutStepCompleted", "Rollout step %d/%d completed (%s)", next, steps, canary.StepString(step))
	rc.requeueAfter(10 * time.Millisecond)
	return &next
}

func (rc *rolloutCtx) stepComplete() bool {
	if rc.ro.Spec.Paused || rc.status.Abort {
		return false
	}
	step, _ := canary.CurrentStep(rc.ro)
	if step == nil {
		return false
	}
	switch {
	case step.Pause != nil:
		return rc.pauseStepDone(step.Pause)
	case step.SetCanaryScale != nil:
		return canary.AtDesiredCounts(rc.ro, rc.newRS, rc.stableRS, rc.others, rc.status.Canary.Weights)
	case step.SetWeight != nil:
		if !canary.AtDesiredCounts(rc.ro, rc.newRS, rc.stableRS, rc.others, rc.status.Canary.Weights) {
			return false
		}
		w := rc.status.Canary.Weights
		if rc.trafficRouted() && (w == nil || w.Canary.Weight != *step.SetWeight || (w.Verified != nil && !*w.Verified)) {
			return false
		}
		return true
	case step.Analysis != nil:
		s := rc.status.Canary.CurrentStepAnalysisRunStatus
		return s != nil && s.Status == v1alpha1.AnalysisPhaseSuccessful
	case step.SetHeaderRoute != nil, step.SetMirrorRoute != nil:
		return true
	}
	return false
}

// promotionReason says why the canary becomes stable now ("" = not yet).
func (rc *rolloutCtx) promotionReason(idx *int32, steps int32) string {
	st := &rc.status
	if st.StableRS == st.CurrentPodHash || st.Abort || rc.newRS == nil {
		return ""
	}
	if rc.newRS.Status.AvailableReplicas < canary.Replicas(rc.ro) || rc.ro.Spec.Paused {
		return ""
	}
	if rc.ro.Status.PromoteFull {
		return "Full promotion requested"
	}
	if !(steps == 0 || (idx != nil && *idx == steps)) {
		return ""
	}
	if w := st.Canary.Weights; rc.trafficRouted() && (w == nil || w.Canary.Weight != canary.MaxWeight(rc.ro) || (w.Verified != nil && !*w.Verified)) {
		return ""
	}
	return fmt.Sprintf("Completed all %d canary steps", steps)
}

func (rc *rolloutCtx) promote(reason string, steps int32) {
	st := &rc.status
	st.PauseConditions, st.ControllerPause, st.Abort, st.AbortedAt, st.PromoteFull = nil, false, false, nil, false
	st.CurrentStepIndex = nil
	if steps > 0 {
		st.CurrentStepIndex = &steps
	}
	st.StableRS = st.CurrentPodHash
	rc.event("Normal", reasonCompleted, "Rollout completed update to revision %d (%s): %s", revisionOf(rc.newRS), st.CurrentPodHash, reason)
	rc.requeueAfter(10 * time.Millisecond)
}

// progressed reports observable progress (for the progress deadline).
func (rc *rolloutCtx) progressed() bool {
	o, n := rc.ro.Status, rc.status
	return o.UpdatedReplicas != n.UpdatedReplicas || o.AvailableReplicas != n.AvailableReplicas ||
		o.ReadyReplicas != n.ReadyReplicas || o.Replicas != n.Replicas || o.CurrentPodHash != n.CurrentPodHash ||
		!equality.Semantic.DeepEqual(o.CurrentStepIndex, n.CurrentStepIndex) || o.StableRS != n.StableRS
}

// persistAnd persists the status and returns err (or the persist error).
func (rc *rolloutCtx) persistAnd(ctx context.Context, err error) error {
	if err != nil && !apierrors.IsConflict(err) && !rc.status.Abort {
		rc.setCond(v1alpha1.RolloutProgressing, corev1.ConditionTrue, reasonReconcileError, reconcileErrMsg(err), false)
	}
	if err != nil {
		rc.status.Phase, rc.status.Message = phase(rc.ro, rc.status)
		if perr := rc.persist(ctx); perr != nil {
			klog.FromContext(ctx).Error(perr, "persist status after error")
		}
		return err
	}
	return rc.persist(ctx)
}

// persist writes the status subresource when it changed.
func (rc *rolloutCtx) persist(ctx context.Context) error {
	if rc.status.Phase == "" || getCond(&rc.status, v1alpha1.InvalidSpec) != nil {
		rc.status.Phase, rc.status.Message = phase(rc.ro, rc.status)
	}
	if equality.Semantic.DeepEqual(rc.ro.Status, rc.status) {
		return nil
	}
	ro := rc.ro.DeepCopy()
	ro.Status = rc.status
	updated, err := rc.c.api.UpdateRolloutStatus(ctx, ro)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err == nil {
		// keep the cache at least as new as our own write, so that the next sync (often
		// triggered by a ReplicaSet event before the watch delivers this update) does not
		// start from a stale status and conflict
		_, _ = cacheTransform(updated)
		_ = rc.c.rollouts.GetIndexer().Update(updated)
	}
	return err
}

// syncRevisionAnnotation keeps rollout.argoproj.io/revision on the Rollout equal to the
// canary ReplicaSet's revision.
func (rc *rolloutCtx) syncRevisionAnnotation(ctx context.Context) error {
	want := rc.newRS.Annotations[v1alpha1.RevisionAnnotation]
	if want == "" || rc.ro.Annotations[v1alpha1.RevisionAnnotation] == want {
		return nil
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{v1alpha1.RevisionAnnotation: want}}})
	if err := rc.c.api.PatchRollout(ctx, rc.ro.Namespace, rc.ro.Name, patch); err != nil {
		return fmt.Errorf("update revision annotation: %w", err)
	}
	if rc.ro.Annotations == nil {
		rc.ro.Annotations = map[string]string{}
	}
	rc.ro.Annotations[v1alpha1.RevisionAnnotation] = want
	return nil
}
