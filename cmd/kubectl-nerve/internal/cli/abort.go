package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
)

// NewCmdAbort is `abort NAME` (status.abort=true).
func NewCmdAbort(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	return newSimpleCmd(streams, f, "abort", "Abort a rollout: traffic and replicas go back to stable",
		"Abort stops progressing the rollout and scales traffic back to the stable ReplicaSet (status.abort=true).\n\nspec.template still holds the new version, so the rollout stays Degraded until the template is reverted:\nrevert the change in Git (GitOps) or run `kubectl nerve undo NAME`; `kubectl nerve retry NAME` starts the canary again.",
		actions.Abort(), "aborted",
		"note: spec.template of %[1]s still holds the new version; revert it in Git or run `kubectl nerve undo %[1]s`")
}
