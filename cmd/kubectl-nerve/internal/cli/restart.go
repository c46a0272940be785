package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
)

// RestartOptions are the options of `restart`.
type RestartOptions struct {
	genericiooptions.IOStreams
	rolloutTarget
	f *Factory

	In time.Duration
}

// NewCmdRestart is `restart NAME [--in D]` (spec.restartAt).
func NewCmdRestart(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &RestartOptions{IOStreams: streams, f: f}
	cmd := &cobra.Command{
		Use:               "restart NAME",
		Short:             "Restart the pods of a rollout one by one (spec.restartAt)",
		Example:           "  kubectl nerve restart mllp-listener --in 30s",
		Args:              exactArgs(1, "a rollout NAME"),
		ValidArgsFunction: rolloutNames(f),
		RunE:              runOptions(o),
	}
	o.AddFlags(cmd)
	return cmd
}

// AddFlags registers the flags.
func (o *RestartOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().DurationVarP(&o.In, "in", "i", 0, "Restart after this delay")
}

// Complete fills the name and clients.
func (o *RestartOptions) Complete(args []string) error {
	return o.complete(o.f, args, false)
}

// Validate checks --in.
func (o *RestartOptions) Validate() error {
	if o.In < 0 {
		return usageError("--in must be >= 0")
	}
	return nil
}

// Run sets spec.restartAt.
func (o *RestartOptions) Run(ctx context.Context) error {
	p, at := actions.Restart(o.f.Now().Add(o.In))
	if err := o.c.apply(ctx, o.Name, p); err != nil {
		return err
	}
	return printf(o.Out, "rollout '%s' restarts at %s\n", o.Name, at)
}
