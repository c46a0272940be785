package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
)

// NewCmdPause is `pause NAME` (spec.paused=true).
func NewCmdPause(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	return newSimpleCmd(streams, f, "pause", "Pause a rollout (spec.paused=true)", "",
		actions.Pause(), "paused", "")
}
