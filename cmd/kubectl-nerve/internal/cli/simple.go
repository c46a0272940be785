package cli

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// simpleOptions is shared by the one-patch commands (abort, retry, pause, resume).
type simpleOptions struct {
	genericiooptions.IOStreams
	f     *Factory
	Name  string
	patch rolloutPatch
	done  string
	after string
	c     *clients
}

func newSimpleCmd(streams genericiooptions.IOStreams, f *Factory, use, short, long string, p rolloutPatch, done, after string) *cobra.Command {
	o := &simpleOptions{IOStreams: streams, f: f, patch: p, done: done, after: after}
	return &cobra.Command{
		Use:               use + " NAME",
		Short:             short,
		Long:              long,
		Args:              exactArgs(1, "a rollout NAME"),
		ValidArgsFunction: rolloutNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
}

// Complete fills the name and clients.
func (o *simpleOptions) Complete(args []string) error {
	o.Name = args[0]
	c, err := o.f.clients(false)
	o.c = c
	return err
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

// NewCmdAbort is `abort NAME` (status.abort=true).
func NewCmdAbort(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	return newSimpleCmd(streams, f, "abort", "Abort a rollout: traffic and replicas go back to stable",
		"Abort stops progressing the rollout and scales traffic back to the stable ReplicaSet (status.abort=true).\n\nspec.template still holds the new version, so the rollout stays Degraded until the template is reverted:\nrevert the change in Git (GitOps) or run `kubectl nerve undo NAME`; `kubectl nerve retry NAME` starts the canary again.",
		rolloutPatch{status: patchAbort, unified: patchAbort}, "aborted",
		"note: spec.template of %[1]s still holds the new version; revert it in Git or run `kubectl nerve undo %[1]s`")
}

// NewCmdRetry is `retry NAME` (status.abort=false).
func NewCmdRetry(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	cmd := newSimpleCmd(streams, f, "retry", "Retry an aborted rollout (status.abort=false)",
		"Retry clears an abort so the canary starts again from the first step.",
		rolloutPatch{status: patchRetry, unified: patchRetry}, "retried", "")
	cmd.Use = "retry [rollout] NAME"
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 2 && (args[0] == "rollout" || args[0] == "ro") {
			return nil
		}
		return exactArgs(1, "a rollout NAME")(cmd, args)
	}
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error { return run(cmd, args[len(args)-1:]) }
	return cmd
}

// NewCmdPause is `pause NAME` (spec.paused=true).
func NewCmdPause(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	return newSimpleCmd(streams, f, "pause", "Pause a rollout (spec.paused=true)", "",
		rolloutPatch{spec: patchPause}, "paused", "")
}

// NewCmdResume is `resume NAME` (spec.paused=false): undoes `pause` without skipping any step.
func NewCmdResume(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	return newSimpleCmd(streams, f, "resume", "Resume a manually paused rollout (spec.paused=false); does not skip a pause step",
		"Resume undoes `kubectl nerve pause` (spec.paused=false). A rollout waiting at a pause step or after an inconclusive analysis needs `promote`.",
		rolloutPatch{spec: patchUnpause}, "resumed", "")
}
