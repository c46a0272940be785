package rollout

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/analysis"
)

// syncAnalysisRun takes the measurements that are due for one run and writes its status.
func (c *Controller) syncAnalysisRun(ctx context.Context, ref cache.ObjectName) (time.Duration, error) {
	obj, exists, err := c.runs.GetIndexer().GetByKey(ref.String())
	if err != nil {
		return 0, err
	}
	if !exists {
		c.metrics.forgetRun(ref.Namespace, ref.Name)
		return 0, nil
	}
	run := obj.(*v1alpha1.AnalysisRun)
	if run.DeletionTimestamp != nil {
		return 0, nil
	}
	start := c.now()
	res := c.engine.Reconcile(ctx, run)
	out := res.Run
	if !equality.Semantic.DeepEqual(run.Status, out.Status) {
		updated, err := c.api.UpdateAnalysisRunStatus(ctx, out)
		if apierrors.IsNotFound(err) {
			return 0, nil
		}
		if err != nil {
			c.metrics.observeRun(run, c.now().Sub(start), err)
			return 0, err
		}
		out = updated
		_, _ = cacheTransform(updated)
		_ = c.runs.GetIndexer().Update(updated)
		if out.Status.Phase.Completed() && !run.Status.Phase.Completed() {
			klog.FromContext(ctx).Info("analysis run completed", "phase", out.Status.Phase, "message", out.Status.Message)
			c.recorder.Eventf(out, eventType(out.Status.Phase), "AnalysisRun"+string(out.Status.Phase),
				"Analysis Run completed. Phase: %s", out.Status.Phase)
		}
	}
	c.metrics.observeRun(out, c.now().Sub(start), nil)
	if out.Status.Phase.Completed() {
		return c.expireRun(ctx, out)
	}
	return res.RequeueAfter, nil
}

// expireRun deletes a completed run whose spec.ttlStrategy has passed (as Argo's
// maybeGarbageCollectAnalysisRun), or asks to be woken when it will.
func (c *Controller) expireRun(ctx context.Context, run *v1alpha1.AnalysisRun) (time.Duration, error) {
	t, ok := analysis.TTLExpiry(run)
	if !ok {
		return 0, nil
	}
	if now := c.now(); now.Before(t) {
		return t.Sub(now), nil
	}
	klog.FromContext(ctx).Info("deleting analysis run: ttlStrategy exceeded", "analysisRun", klog.KObj(run))
	err := c.api.DeleteAnalysisRun(ctx, run.Namespace, run.Name)
	if err != nil && !apierrors.IsNotFound(err) {
		return 0, err
	}
	return 0, nil
}

func eventType(p v1alpha1.AnalysisPhase) string {
	if p == v1alpha1.AnalysisPhaseSuccessful || p == v1alpha1.AnalysisPhaseRunning || p == v1alpha1.AnalysisPhasePending {
		return "Normal"
	}
	return "Warning"
}
