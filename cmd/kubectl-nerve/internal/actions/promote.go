package actions

import (
	"fmt"
	"strings"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// Promote returns Argo's promote patches for ro.
func Promote(ro *v1alpha1.Rollout, full bool) Patch {
	var p Patch
	if full {
		if ro.Spec.Paused {
			p.Spec = PatchUnpause
		}
		if ro.Status.CurrentPodHash != ro.Status.StableRS {
			p.Status = PatchPromoteFull
		}
		p.Unified = PatchUnpauseAndPromoteFull
		return p
	}
	p.Unified = PatchUnpauseAndClear
	if ro.Spec.Paused {
		p.Spec = PatchUnpause
	}
	steps := int32(len(canary.Steps(ro)))
	_, idx := canary.CurrentStep(ro)
	next := func() int32 {
		n := *idx
		if n < steps {
			n++
		}
		return n
	}
	switch {
	case inconclusive(ro) && len(ro.Status.PauseConditions) > 0 && ro.Status.ControllerPause:
		if idx != nil {
			p.Status = fmt.Sprintf(PatchClearPauseAndControllerStep, next())
		}
	case len(ro.Status.PauseConditions) > 0:
		p.Status = PatchClearPauseConditions
	case idx != nil:
		n := next()
		p.Status = fmt.Sprintf(PatchClearPauseWithStep, n)
		p.Unified = fmt.Sprintf(PatchUnpauseAndClearWithStep, n)
	}
	return p
}

func inconclusive(ro *v1alpha1.Rollout) bool {
	s := ro.Status.Canary.CurrentStepAnalysisRunStatus
	return s != nil && s.Status == v1alpha1.AnalysisPhaseInconclusive
}

// PromotePlan says in words what promote will do.
func PromotePlan(ro *v1alpha1.Rollout, full bool) []string {
	if ro.Spec.Strategy.BlueGreen != nil {
		return blueGreenPlan(ro, full)
	}
	steps := canary.Steps(ro)
	_, idx := canary.CurrentStep(ro)
	var out []string
	if ro.Spec.Paused {
		out = append(out, "clears the manual pause (spec.paused)")
	}
	if idx == nil {
		if full && ro.Status.CurrentPodHash != ro.Status.StableRS {
			out = append(out, "makes the current pod template stable at once")
		}
		return out
	}
	if full {
		for i := int(*idx); i < len(steps); i++ {
			out = append(out, fmt.Sprintf("skips step %d/%d: %s", i, len(steps), StepString(steps[i])))
		}
		if len(out) == 0 {
			out = append(out, "no steps left; nothing is skipped")
		}
		if ro.Spec.Strategy.Canary.Analysis != nil {
			out = append(out, "ends the background analysis")
		}
		return append(out, "then sets weight "+fmt.Sprint(canary.MaxWeight(ro))+" and makes the new version stable")
	}
	if int(*idx) >= len(steps) {
		return append(out, "all steps are done; nothing to skip")
	}
	switch {
	case len(ro.Status.PauseConditions) > 0 && !(inconclusive(ro) && ro.Status.ControllerPause):
		reasons := make([]string, 0, len(ro.Status.PauseConditions))
		for _, c := range ro.Status.PauseConditions {
			reasons = append(reasons, string(c.Reason))
		}
		out = append(out, fmt.Sprintf("ends the pause (%s) at step %d/%d: %s", strings.Join(reasons, ","), *idx, len(steps), StepString(steps[*idx])))
	default:
		out = append(out, fmt.Sprintf("skips step %d/%d: %s", *idx, len(steps), StepString(steps[*idx])))
	}
	if int(*idx)+1 < len(steps) {
		out = append(out, fmt.Sprintf("continues with step %d/%d: %s", *idx+1, len(steps), StepString(steps[*idx+1])))
	} else {
		out = append(out, "then completes the rollout")
	}
	return out
}

// StepString describes a canary step for a promote plan. It is not rollout/canary.StepString on
// purpose: that one renders the controller's event wording ("setWeight: 25", "analysis"), this one
// names the analysis templates ("analysis mllp-health-check"), which the CLI prints and tests.
func StepString(s v1alpha1.CanaryStep) string {
	switch {
	case s.SetWeight != nil:
		return fmt.Sprintf("setWeight %d", *s.SetWeight)
	case s.Pause != nil:
		if s.Pause.Duration == nil {
			return "pause (until promoted)"
		}
		return "pause " + s.Pause.Duration.String()
	case s.Analysis != nil:
		names := make([]string, 0, len(s.Analysis.Templates))
		for _, t := range s.Analysis.Templates {
			names = append(names, t.TemplateName)
		}
		return "analysis " + strings.Join(names, ",")
	case s.SetCanaryScale != nil:
		return "setCanaryScale"
	case s.SetHeaderRoute != nil:
		return "setHeaderRoute " + s.SetHeaderRoute.Name
	case s.SetMirrorRoute != nil:
		return "setMirrorRoute " + s.SetMirrorRoute.Name
	case s.Experiment != nil:
		return "experiment"
	case s.Plugin != nil:
		return "plugin " + s.Plugin.Name
	}
	return "(empty step)"
}

// blueGreenPlan says in words what promote does to a blueGreen rollout: end the BlueGreenPause
// (the active Service then switches to the preview ReplicaSet), or with --full skip the pause
// and the pre- and post-promotion analysis.
func blueGreenPlan(ro *v1alpha1.Rollout, full bool) []string {
	bg, st := ro.Spec.Strategy.BlueGreen, ro.Status
	var out []string
	if ro.Spec.Paused {
		out = append(out, "clears the manual pause (spec.paused)")
	}
	if st.CurrentPodHash == st.StableRS {
		return append(out, "the current pod template is stable already; nothing to promote")
	}
	target := fmt.Sprintf("the active Service %s switches to the preview ReplicaSet (%s)", bg.ActiveService, st.CurrentPodHash)
	if full {
		if bg.PrePromotionAnalysis != nil || bg.PostPromotionAnalysis != nil {
			out = append(out, "skips the pre- and post-promotion analysis")
		}
		return append(out, target+" once it is fully available, and it becomes stable at once")
	}
	if len(st.PauseConditions) > 0 {
		reasons := make([]string, 0, len(st.PauseConditions))
		for _, c := range st.PauseConditions {
			reasons = append(reasons, string(c.Reason))
		}
		out = append(out, fmt.Sprintf("ends the pause (%s)", strings.Join(reasons, ",")))
	}
	if st.BlueGreen.ActiveSelector == st.CurrentPodHash {
		if bg.PostPromotionAnalysis != nil {
			out = append(out, "the active Service is switched already; the post-promotion analysis decides")
		}
		return out
	}
	if bg.PrePromotionAnalysis != nil {
		target += " after the pre-promotion analysis succeeded"
	}
	out = append(out, target)
	if bg.PostPromotionAnalysis != nil {
		return append(out, "then the post-promotion analysis decides whether it becomes stable")
	}
	return append(out, "then it becomes stable")
}
