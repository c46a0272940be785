package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// NewCmdPause is `pause NAME` (spec.paused=true).
func NewCmdPause(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	return newSimpleCmd(streams, f, "pause", "Pause a rollout (spec.paused=true)", "",
		rolloutPatch{spec: patchPause}, "paused", "")
}
