package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// NewCmdGet is `get`, the parent of `get rollout`.
func NewCmdGet(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	return newGroupCmd("get", "Show a rollout as a tree of revisions, ReplicaSets, pods and AnalysisRuns", "rollout",
		NewCmdGetRollout(streams, f))
}
