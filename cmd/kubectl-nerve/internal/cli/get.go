package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// NewCmdGet is `get`, the parent of `get rollout`.
func NewCmdGet(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Show a rollout as a tree of revisions, ReplicaSets, pods and AnalysisRuns",
		Args:  exactArgs(0, "a subcommand (rollout)"),
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdGetRollout(streams, f))
	return cmd
}
