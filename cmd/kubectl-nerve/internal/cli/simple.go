package cli

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
)

// simpleOptions is shared by the one-patch commands (abort, retry, pause, resume).
type simpleOptions struct {
	genericiooptions.IOStreams
	rolloutTarget
	f     *Factory
	patch actions.Patch
	done  string
	after string
}

func newSimpleCmd(streams genericiooptions.IOStreams, f *Factory, use, short, long string, p actions.Patch, done, after string) *cobra.Command {
	o := &simpleOptions{IOStreams: streams, f: f, patch: p, done: done, after: after}
	return &cobra.Command{
		Use:               use + " NAME",
		Short:             short,
		Long:              long,
		Args:              exactArgs(1, "a rollout NAME"),
		ValidArgsFunction: rolloutNames(f),
		RunE:              runOptions(o),
	}
}

// Complete fills the name and clients.
func (o *simpleOptions) Complete(args []string) error {
	return o.complete(o.f, args, false)
}

// Validate has nothing to check beyond the argument count.
func (o *simpleOptions) Validate() error { return nil }

// Run sends the patch.
func (o *simpleOptions) Run(ctx context.Context) error {
	if err := o.c.apply(ctx, o.Name, o.patch); err != nil {
		return err
	}
	if err := printf(o.Out, "rollout '%s' %s\n", o.Name, o.done); err != nil {
		return err
	}
	if o.after != "" {
		return printf(o.ErrOut, o.after+"\n", o.Name)
	}
	return nil
}
