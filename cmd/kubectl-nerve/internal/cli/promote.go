package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

const promoteLong = `Promote a rollout past its current pause or analysis step; --full skips every remaining step,
pause and analysis and makes the new version stable at once.

The patches are Argo Rollouts' own (spec.paused, status.pauseConditions, status.currentStepIndex,
status.promoteFull), so promote works with nerve's controller and Argo's alike. --dry-run prints
what would be skipped and changes nothing.`

// PromoteOptions are the options of `promote`.
type PromoteOptions struct {
	genericiooptions.IOStreams
	rolloutTarget
	f *Factory

	Full   bool
	DryRun bool
}

// NewCmdPromote is `promote NAME [--full] [--dry-run]`.
func NewCmdPromote(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &PromoteOptions{IOStreams: streams, f: f}
	cmd := &cobra.Command{
		Use:               "promote NAME",
		Short:             "Promote a rollout to the next step (--full: all the way), printing what is skipped",
		Long:              promoteLong,
		Example:           "  kubectl nerve promote mllp-listener --dry-run\n  kubectl nerve promote mllp-listener --full",
		Args:              exactArgs(1, "a rollout NAME"),
		ValidArgsFunction: rolloutNames(f),
		RunE:              runOptions(o),
	}
	o.AddFlags(cmd)
	return cmd
}

// AddFlags registers the flags.
func (o *PromoteOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.Full, "full", false, "Skip every remaining step, pause and analysis")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "Print what would be skipped; change nothing")
}

// Complete fills the name and clients.
func (o *PromoteOptions) Complete(args []string) error {
	return o.complete(o.f, args, false)
}

// Validate has nothing to check beyond the argument count.
func (o *PromoteOptions) Validate() error { return nil }

// Run promotes.
func (o *PromoteOptions) Run(ctx context.Context) error {
	_, ro, err := o.c.getRollout(ctx, o.Name)
	if err != nil {
		return err
	}
	if ro.Spec.Strategy.Canary == nil {
		return fmt.Errorf("rollout %s has no canary strategy; nerve promotes canaries only", o.Name)
	}
	p := PromotePatches(ro, o.Full)
	plan := PromotePlan(ro, o.Full)
	prefix := ""
	if o.DryRun {
		prefix = "(dry run) "
	}
	for _, line := range plan {
		if err := printf(o.Out, "%s%s\n", prefix, line); err != nil {
			return err
		}
	}
	if o.DryRun {
		return nil
	}
	if p.empty() {
		return printf(o.Out, "rollout '%s' has nothing to promote\n", o.Name)
	}
	if err := o.c.apply(ctx, o.Name, p); err != nil {
		return err
	}
	verb := "promoted"
	if o.Full {
		verb = "fully promoted"
	}
	return printf(o.Out, "rollout '%s' %s\n", o.Name, verb)
}

// PromotePatches returns Argo's promote patches for ro.
func PromotePatches(ro *v1alpha1.Rollout, full bool) rolloutPatch {
	var p rolloutPatch
	if full {
		if ro.Spec.Paused {
			p.spec = patchUnpause
		}
		if ro.Status.CurrentPodHash != ro.Status.StableRS {
			p.status = patchPromoteFull
		}
		p.unified = patchUnpauseAndPromoteFull
		return p
	}
	p.unified = patchUnpauseAndClear
	if ro.Spec.Paused {
		p.spec = patchUnpause
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
			p.status = fmt.Sprintf(patchClearPauseAndControllerStep, next())
		}
	case len(ro.Status.PauseConditions) > 0:
		p.status = patchClearPauseConditions
	case idx != nil:
		n := next()
		p.status = fmt.Sprintf(patchClearPauseWithStep, n)
		p.unified = fmt.Sprintf(patchUnpauseAndClearWithStep, n)
	}
	return p
}

func inconclusive(ro *v1alpha1.Rollout) bool {
	s := ro.Status.Canary.CurrentStepAnalysisRunStatus
	return s != nil && s.Status == v1alpha1.AnalysisPhaseInconclusive
}

// PromotePlan says in words what promote will do.
func PromotePlan(ro *v1alpha1.Rollout, full bool) []string {
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

// StepString describes a canary step.
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
