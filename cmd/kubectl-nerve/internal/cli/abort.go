package cli

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
)

// NewCmdAbort is `abort NAME` (status.abort=true).
func NewCmdAbort(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	return newSimpleCmd(streams, f, "abort", "Abort a rollout: traffic and replicas go back to stable",
		"Abort stops progressing the rollout and scales traffic back to the stable ReplicaSet (status.abort=true).\n\nspec.template still holds the new version, so the rollout stays Degraded until the template is reverted.\nUnder GitOps revert it in Git: `kubectl nerve rollback NAME` aborts and reverts the promoting commit (a live\n`undo` would be put back by Argo CD's self-heal). Without GitOps run `kubectl nerve undo NAME`;\n`kubectl nerve retry NAME` starts the canary again.",
		actions.Abort(), "aborted",
		"note: spec.template of %[1]s still holds the new version; revert it in Git (`kubectl nerve rollback %[1]s`), or without GitOps run `kubectl nerve undo %[1]s`")
}

// abortRollout is abort's code path for other commands (rollback): status.abort=true is
// status only, so Argo CD's self-heal leaves it.
func abortRollout(ctx context.Context, c *clients, name string) error {
	return c.apply(ctx, name, actions.Abort())
}
