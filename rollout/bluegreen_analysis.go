package rollout

import (
	"context"
	"fmt"

	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// runNamed returns the run the status names, if it still exists.
func runNamed(runs []*v1alpha1.AnalysisRun, s *v1alpha1.RolloutAnalysisRunStatus) *v1alpha1.AnalysisRun {
	if s == nil {
		return nil
	}
	for _, r := range runs {
		if r.Name == s.Name {
			return r
		}
	}
	return nil
}

// reconcileAnalysis is Argo's reconcileAnalysisRuns for blueGreen: the pre-promotion run while
// the new ReplicaSet is previewed, the post-promotion run once the active Service switched to it;
// a Failed/Error run aborts, an Inconclusive one pauses. Once promoted, aborted or fully
// promoted the runs are terminated but stay named in the status.
func (bs *blueGreenStrategy) reconcileAnalysis(ctx context.Context, runs []*v1alpha1.AnalysisRun) error {
	st := &bs.status
	cancel := bs.fullyPromoted() || bs.ro.Status.Abort || bs.ro.Status.PromoteFull || bs.fastRollback()
	if !cancel {
		var err error
		if bs.pre, err = bs.reconcilePre(ctx); err != nil {
			return err
		}
		bs.react(bs.pre, "pre")
		if bs.post, err = bs.reconcilePost(ctx); err != nil {
			return err
		}
		bs.react(bs.post, "post")
	}
	st.BlueGreen.PrePromotionAnalysisRunStatus, st.BlueGreen.PostPromotionAnalysisRunStatus = nil, nil
	keep := map[string]bool{}
	if bs.pre != nil {
		st.BlueGreen.PrePromotionAnalysisRunStatus = runStatus(bs.pre)
		keep[bs.pre.Name] = !cancel
	}
	if bs.post != nil {
		st.BlueGreen.PostPromotionAnalysisRunStatus = runStatus(bs.post)
		keep[bs.post.Name] = !cancel
	}
	if err := bs.terminateOthers(ctx, runs, keep); err != nil {
		return err
	}
	for name := range keep {
		keep[name] = true
	}
	return bs.gcRuns(ctx, runs, keep)
}

// reconcilePre creates or follows the pre-promotion run (Argo's reconcilePrePromotionAnalysisRun).
func (bs *blueGreenStrategy) reconcilePre(ctx context.Context) (*v1alpha1.AnalysisRun, error) {
	ra := bs.spec().PrePromotionAnalysis
	if ra == nil || len(ra.Templates) == 0 {
		return nil, bs.terminate(ctx, bs.pre)
	}
	if bs.skipPrePromotion() {
		return bs.pre, bs.terminate(ctx, bs.pre)
	}
	return bs.runFor(ctx, bs.pre, *ra, v1alpha1.RolloutTypePrePromotionLabel, "pre")
}

// reconcilePost creates or follows the post-promotion run (Argo's reconcilePostPromotionAnalysisRun).
func (bs *blueGreenStrategy) reconcilePost(ctx context.Context) (*v1alpha1.AnalysisRun, error) {
	ra := bs.spec().PostPromotionAnalysis
	if ra == nil || len(ra.Templates) == 0 {
		return nil, bs.terminate(ctx, bs.post)
	}
	if bs.skipPostPromotion() {
		return bs.post, bs.terminate(ctx, bs.post)
	}
	return bs.runFor(ctx, bs.post, *ra, v1alpha1.RolloutTypePostPromotionLabel, "post")
}

// runFor keeps cur, or creates the run <rollout>-<hash>-<revision>-<infix> when a new one is due.
func (bs *blueGreenStrategy) runFor(ctx context.Context, cur *v1alpha1.AnalysisRun, ra v1alpha1.RolloutAnalysis, typ, infix string) (*v1alpha1.AnalysisRun, error) {
	if hasPause(bs.ro.Status.PauseConditions, v1alpha1.PauseReasonInconclusiveAnalysis) || !bs.needsNewRun(cur) {
		return cur, nil
	}
	name := fmt.Sprintf("%s-%s-%d-%s", bs.ro.Name, rsHash(bs.newRS), revisionOf(bs.ro), infix)
	return bs.createRun(ctx, name, ra, typ, nil)
}

// needsNewRun is Argo's needsNewAnalysisRun: none yet, a retry after an abort, or an
// inconclusive run the user resumed.
func (bs *blueGreenStrategy) needsNewRun(cur *v1alpha1.AnalysisRun) bool {
	if cur == nil {
		return true
	}
	st := bs.ro.Status
	if st.ControllerPause && !hasPause(st.PauseConditions, v1alpha1.PauseReasonCanaryPauseStep) && !hasPause(st.PauseConditions, v1alpha1.PauseReasonBlueGreenPause) {
		return cur.Status.Phase == v1alpha1.AnalysisPhaseInconclusive
	}
	return st.AbortedAt != nil
}

// skipPrePromotion: nothing to analyse before the switch (already stable, first deploy, already
// active) or, before a run exists, the new ReplicaSet is not at its preview size yet.
func (bs *blueGreenStrategy) skipPrePromotion() bool {
	h, active := rsHash(bs.newRS), bs.ro.Status.BlueGreen.ActiveSelector
	if h == "" || bs.ro.Status.StableRS == h || active == "" || active == h {
		return true
	}
	if bs.pre != nil {
		return false
	}
	if prc := bs.spec().PreviewReplicaCount; prc != nil {
		return ptr.Deref(bs.newRS.Spec.Replicas, 0) != *prc || bs.newRS.Status.AvailableReplicas != *prc
	}
	return !saturated(bs.ro, bs.newRS)
}

// skipPostPromotion: nothing to analyse after the switch (already stable, not switched yet) or,
// before a run exists, the new ReplicaSet is not saturated.
func (bs *blueGreenStrategy) skipPostPromotion() bool {
	h := rsHash(bs.newRS)
	if h == "" || bs.ro.Status.StableRS == h || bs.ro.Status.BlueGreen.ActiveSelector != h {
		return true
	}
	return bs.post == nil && !saturated(bs.ro, bs.newRS)
}

// react turns a finished run into an abort (Failed/Error, with Argo's message) or a pause
// (Inconclusive): Argo's setPauseOrAbortForBlueGreen.
func (bs *blueGreenStrategy) react(run *v1alpha1.AnalysisRun, when string) {
	if run == nil {
		return
	}
	switch run.Status.Phase {
	case v1alpha1.AnalysisPhaseInconclusive:
		bs.addPause(v1alpha1.PauseReasonInconclusiveAnalysis)
	case v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseError:
		msg := fmt.Sprintf("Blue/green %s-promotion analysis phase error/failed", when)
		if run.Status.Message != "" {
			msg += ": " + run.Status.Message
		}
		if !bs.status.Abort {
			bs.event("Warning", "AnalysisRunFailed", "Analysis Run '%s' %s: %s", run.Name, run.Status.Phase, run.Status.Message)
			bs.event("Warning", reasonAborted, "Rollout aborted update to revision %d", revisionOf(bs.ro))
		}
		bs.abort(msg)
	}
}

// terminate sets spec.terminate on an unfinished run.
func (bs *blueGreenStrategy) terminate(ctx context.Context, run *v1alpha1.AnalysisRun) error {
	if run == nil {
		return nil
	}
	return bs.terminateOthers(ctx, []*v1alpha1.AnalysisRun{run}, nil)
}
