package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
)

// NewCmdRetry is `retry NAME` (status.abort=false).
func NewCmdRetry(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	cmd := newSimpleCmd(streams, f, "retry", "Retry an aborted rollout (status.abort=false)",
		"Retry clears an abort so the canary starts again from the first step.",
		actions.Retry(), "retried", "")
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
