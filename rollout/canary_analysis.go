package rollout

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/analysis"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// reconcileAnalysis creates, tracks and terminates the step and background AnalysisRuns. A
// Failed/Error run aborts the Rollout; an Inconclusive one pauses it.
func (cs *canaryStrategy) reconcileAnalysis(ctx context.Context) error {
	runs, err := cs.runsOf()
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	if cs.fullyPromoted() {
		cs.status.Canary.CurrentStepAnalysisRunStatus, cs.status.Canary.CurrentBackgroundAnalysisRunStatus = nil, nil
	}
	if !cs.ro.Status.Abort && !cs.fullyPromoted() && !cs.ro.Status.PromoteFull && !cs.rollbackWithinWindow() {
		step, err := cs.reconcileStepRun(ctx, runs)
		if err != nil {
			return err
		}
		bg, err := cs.reconcileBackgroundRun(ctx, runs)
		if err != nil {
			return err
		}
		for _, r := range []*v1alpha1.AnalysisRun{step, bg} {
			if r != nil {
				keep[r.Name] = true
			}
		}
	}
	if !keep[nameOf(cs.status.Canary.CurrentStepAnalysisRunStatus)] && cs.ro.Status.Abort {
		// keep the failed step run visible after an abort, as Argo does
		keep[nameOf(cs.status.Canary.CurrentStepAnalysisRunStatus)] = true
	}
	if err := cs.terminateOthers(ctx, runs, keep); err != nil {
		return err
	}
	return cs.gcRuns(ctx, runs, keep)
}

func (cs *canaryStrategy) reconcileStepRun(ctx context.Context, runs []*v1alpha1.AnalysisRun) (*v1alpha1.AnalysisRun, error) {
	step, idx := canary.CurrentStep(cs.ro)
	if step == nil || step.Analysis == nil || cs.ro.Spec.Paused {
		if step == nil || step.Analysis == nil {
			cs.status.Canary.CurrentStepAnalysisRunStatus = nil
		}
		return cs.findRun(runs, v1alpha1.RolloutTypeStepLabel, idx), nil
	}
	run := cs.findRun(runs, v1alpha1.RolloutTypeStepLabel, idx)
	if run == nil {
		var err error
		name := fmt.Sprintf("%s-%s-%d-%d", cs.ro.Name, cs.status.CurrentPodHash, revisionOf(cs.ro), *idx)
		run, err = cs.createRun(ctx, name, *step.Analysis, v1alpha1.RolloutTypeStepLabel, idx)
		if err != nil {
			return nil, err
		}
	}
	cs.status.Canary.CurrentStepAnalysisRunStatus = runStatus(run)
	cs.react(run)
	return run, nil
}

func (cs *canaryStrategy) reconcileBackgroundRun(ctx context.Context, runs []*v1alpha1.AnalysisRun) (*v1alpha1.AnalysisRun, error) {
	bg := cs.ro.Spec.Strategy.Canary.Analysis
	if bg == nil || canary.BeforeStartingStep(cs.ro) || cs.ro.Status.StableRS == "" {
		cs.status.Canary.CurrentBackgroundAnalysisRunStatus = nil
		return nil, nil
	}
	run := cs.findRun(runs, v1alpha1.RolloutTypeBackgroundRunLabel, nil)
	if run == nil {
		if cs.ro.Spec.Paused {
			return nil, nil
		}
		var err error
		name := fmt.Sprintf("%s-%s-%d", cs.ro.Name, cs.status.CurrentPodHash, revisionOf(cs.ro))
		run, err = cs.createRun(ctx, name, bg.RolloutAnalysis, v1alpha1.RolloutTypeBackgroundRunLabel, nil)
		if err != nil {
			return nil, err
		}
	}
	cs.status.Canary.CurrentBackgroundAnalysisRunStatus = runStatus(run)
	cs.react(run)
	return run, nil
}

// react turns a finished run into an abort (Failed/Error, with Argo's message) or a pause (Inconclusive).
func (cs *canaryStrategy) react(run *v1alpha1.AnalysisRun) {
	switch run.Status.Phase {
	case v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseError:
		msg := "Step-based analysis phase error/failed"
		if run.Labels[v1alpha1.RolloutTypeLabel] == v1alpha1.RolloutTypeBackgroundRunLabel {
			msg = "Background analysis phase error/failed"
		}
		if run.Status.Message != "" {
			msg += ": " + run.Status.Message
		}
		cs.abort(msg)
		cs.event("Warning", "AnalysisRunFailed", "Analysis Run '%s' %s: %s", run.Name, run.Status.Phase, run.Status.Message)
	case v1alpha1.AnalysisPhaseInconclusive:
		if !cs.ro.Status.ControllerPause || !hasPause(cs.ro.Status.PauseConditions, v1alpha1.PauseReasonInconclusiveAnalysis) {
			cs.addPause(v1alpha1.PauseReasonInconclusiveAnalysis)
		}
	}
}

// findRun returns the run of the given type (and step) for the current pod hash that is still
// in use: not terminated by the controller, or the one the status names. This keeps a controller
// restart from creating a duplicate and a retry from re-using a run ended by the abort.
func (cs *canaryStrategy) findRun(runs []*v1alpha1.AnalysisRun, typ string, idx *int32) *v1alpha1.AnalysisRun {
	var named string
	if typ == v1alpha1.RolloutTypeStepLabel {
		named = nameOf(cs.ro.Status.Canary.CurrentStepAnalysisRunStatus)
	} else {
		named = nameOf(cs.ro.Status.Canary.CurrentBackgroundAnalysisRunStatus)
	}
	var found *v1alpha1.AnalysisRun
	for _, run := range runs {
		l := run.Labels
		if l[v1alpha1.RolloutTypeLabel] != typ || l[v1alpha1.DefaultRolloutUniqueLabelKey] != cs.status.CurrentPodHash {
			continue
		}
		if idx != nil && l[v1alpha1.RolloutCanaryStepIndexLabel] != strconv.Itoa(int(*idx)) {
			continue
		}
		if run.Name == named || (!run.Spec.Terminate && !analysis.Bad(run.Status.Phase)) {
			found = run
		}
	}
	return found
}
