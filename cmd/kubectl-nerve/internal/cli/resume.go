package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
)

// NewCmdResume is `resume NAME` (spec.paused=false): undoes `pause` without skipping any step.
func NewCmdResume(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	return newSimpleCmd(streams, f, "resume", "Resume a manually paused rollout (spec.paused=false); does not skip a pause step",
		"Resume undoes `kubectl nerve pause` (spec.paused=false). A rollout waiting at a pause step or after an inconclusive analysis needs `promote`.",
		actions.Resume(), "resumed", "")
}
