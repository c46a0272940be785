package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// KubectlCompleteScript is the kubectl_complete-nerve helper: kubectl ≥ 1.26 runs it to complete
// `kubectl nerve ...` (cobra's __complete protocol).
const KubectlCompleteScript = `#!/usr/bin/env sh
# kubectl_complete-nerve: shell completion for "kubectl nerve" (kubectl >= 1.26).
# Install: kubectl nerve completion kubectl-plugin > kubectl_complete-nerve
#          chmod +x kubectl_complete-nerve && mv kubectl_complete-nerve <a directory on PATH>
exec kubectl nerve __complete "$@"
`

// NewCmdCompletion is `completion bash|zsh|fish|kubectl-plugin`.
func NewCmdCompletion(streams genericiooptions.IOStreams, _ *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|kubectl-plugin",
		Short: "Print a shell completion script, or the kubectl_complete-nerve helper for kubectl's plugin completion",
		Long: `Print a completion script.

  source <(kubectl-nerve completion bash)       # completes kubectl-nerve
  kubectl nerve completion kubectl-plugin > ~/bin/kubectl_complete-nerve && chmod +x ~/bin/kubectl_complete-nerve
                                                # completes "kubectl nerve ..." (kubectl >= 1.26)`,
		ValidArgs: []string{"bash", "zsh", "fish", "kubectl-plugin"},
		Args:      exactArgs(1, "a shell (bash, zsh, fish or kubectl-plugin)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(streams.Out, true)
			case "zsh":
				return root.GenZshCompletion(streams.Out)
			case "fish":
				return root.GenFishCompletion(streams.Out, true)
			case "kubectl-plugin":
				return printf(streams.Out, "%s", KubectlCompleteScript)
			}
			return usageError("unknown shell %q: want bash, zsh, fish or kubectl-plugin", args[0])
		},
	}
}
