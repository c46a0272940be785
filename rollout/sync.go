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

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/rules"
)

// rolloutCtx is the state of one reconcile of one Rollout.
type rolloutCtx struct {
	c      *Controller
	ro     *v1alpha1.Rollout // a deep copy of the stored object; status is the old status
	status v1alpha1.RolloutStatus

	newRS, stableRS *appsv1.ReplicaSet
	others, all     []*appsv1.ReplicaSet

	// strategy reconciles what depends on spec.strategy; it is chosen once the spec is valid.
	strategy strategy

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

// fullyPromoted: the stable ReplicaSet is the current pod template's.
func (rc *rolloutCtx) fullyPromoted() bool {
	return rc.ro.Status.StableRS != "" && rc.ro.Status.StableRS == rc.ro.Status.CurrentPodHash
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
	podHash = rc.classify(rss, podHash)
	rc.baseStatus()
	if msg := rc.validate(podHash); msg != "" {
		return rc.invalid(ctx, msg)
	}
	rc.dropCond(v1alpha1.InvalidSpec)
	if rc.strategy, err = rc.strategyFor(); err != nil {
		return err
	}
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

// progress runs the strategy-independent steps and then the strategy, in Argo's order, and
// writes conditions and phase; the status is persisted by the caller whatever happens, so that
// partial progress (weights, pauses, aborts) is recorded.
func (rc *rolloutCtx) progress(ctx context.Context) error {
	rc.retryIfRequested()
	if err := rc.reconcileRestart(ctx); err != nil {
		return err
	}
	if err := rc.reconcileEphemeralMetadata(ctx); err != nil {
		return err
	}
	if err := rc.reconcileRevisionHistory(ctx); err != nil {
		return err
	}
	if err := rc.strategy.progress(ctx); err != nil {
		return err
	}
	rc.updateConditions(rc.progressed())
	rc.status.Phase, rc.status.Message = rules.Phase(rc.ro, rc.status)
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

// resetForNewRevision starts a new revision: pauses and abort cleared, and the strategy's own
// state reset. The very first revision is stable at once.
func (rc *rolloutCtx) resetForNewRevision(podHash string) {
	st := &rc.status
	st.CurrentPodHash, st.CurrentStepHash = podHash, StepHash(rc.ro)
	st.PauseConditions, st.ControllerPause, st.Abort, st.AbortedAt, st.PromoteFull = nil, false, false, nil, false
	first := st.StableRS == ""
	if first {
		st.StableRS = podHash
	}
	rc.strategy.startRevision(first)
	rev := revisionOf(rc.newRS)
	rc.event("Normal", "RolloutUpdated", "Rollout updated to revision %d", rev)
	rc.updateConditions(true)
	st.Phase, st.Message = rules.Phase(rc.ro, *st)
	rc.requeueAfter(10 * time.Millisecond)
}

// retryIfRequested notices `retry` (status.abort set back to false) after an abort.
func (rc *rolloutCtx) retryIfRequested() {
	if !rc.ro.Status.Abort && rc.ro.Status.AbortedAt != nil {
		rc.status.AbortedAt = nil
		rc.event("Normal", "RolloutRetry", "Retrying Rollout after abort")
	}
}

// progressed reports observable progress (for the progress deadline).
func (rc *rolloutCtx) progressed() bool {
	o, n := rc.ro.Status, rc.status
	return o.UpdatedReplicas != n.UpdatedReplicas || o.AvailableReplicas != n.AvailableReplicas ||
		o.ReadyReplicas != n.ReadyReplicas || o.Replicas != n.Replicas || o.CurrentPodHash != n.CurrentPodHash ||
		!equality.Semantic.DeepEqual(o.CurrentStepIndex, n.CurrentStepIndex) || o.StableRS != n.StableRS ||
		o.BlueGreen.ActiveSelector != n.BlueGreen.ActiveSelector || o.BlueGreen.PreviewSelector != n.BlueGreen.PreviewSelector
}

// persistAnd persists the status and returns err (or the persist error).
func (rc *rolloutCtx) persistAnd(ctx context.Context, err error) error {
	if err != nil && !apierrors.IsConflict(err) && !rc.status.Abort {
		rc.setCond(v1alpha1.RolloutProgressing, corev1.ConditionTrue, reasonReconcileError, reconcileErrMsg(err), false)
	}
	if err != nil {
		rc.status.Phase, rc.status.Message = rules.Phase(rc.ro, rc.status)
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
		rc.status.Phase, rc.status.Message = rules.Phase(rc.ro, rc.status)
	}
	if equality.Semantic.DeepEqual(rc.ro.Status, rc.status) {
		return nil
	}
	patch, err := statusPatch(rc.ro.Status, rc.status, rc.ro.ResourceVersion)
	if err != nil {
		return err
	}
	updated, err := rc.c.api.PatchRolloutStatus(ctx, rc.ro.Namespace, rc.ro.Name, patch)
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
	out, err := rc.c.api.PatchRollout(ctx, rc.ro.Namespace, rc.ro.Name, patch)
	if err != nil {
		return fmt.Errorf("update revision annotation: %w", err)
	}
	// The status write of this sync goes against the patched object, as Argo's does; with the
	// informer's older resourceVersion it would conflict and the sync would run (and announce
	// the new revision) twice.
	rc.ro.ResourceVersion = out.ResourceVersion
	if rc.ro.Annotations == nil {
		rc.ro.Annotations = map[string]string{}
	}
	rc.ro.Annotations[v1alpha1.RevisionAnnotation] = want
	return nil
}
