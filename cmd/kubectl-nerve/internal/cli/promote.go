package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
)

const promoteLong = `Promote a rollout past its current pause or analysis step; --full skips every remaining step,
pause and analysis and makes the new version stable at once. A blueGreen rollout paused before
the switch (BlueGreenPause) switches its active Service to the preview ReplicaSet; --full also
skips the pre- and post-promotion analysis.

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
	if ro.Spec.Strategy.Canary == nil && ro.Spec.Strategy.BlueGreen == nil {
		return fmt.Errorf("rollout %s has neither a canary nor a blueGreen strategy: nothing to promote", o.Name)
	}
	p := actions.Promote(ro, o.Full)
	plan := actions.PromotePlan(ro, o.Full)
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
	if p.Empty() {
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
