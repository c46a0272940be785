package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

const rootLong = `kubectl nerve drives canary rollouts (argoproj.io/v1alpha1 Rollouts, run by nerve's controller
or Argo Rollouts' controller) from the terminal and from CI.

Exit codes: 0 success, 1 error, 2 usage error, 3 rollout degraded/aborted (status, get --until),
4 timeout (status, get --until).`

// NewRootCmd builds the whole command tree. configFlags are the standard kubectl flags; f gives
// the commands their clients (NewFactory(configFlags) in main).
func NewRootCmd(streams genericiooptions.IOStreams, configFlags *ConfigFlags, f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:           "kubectl-nerve",
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: commandName()},
		Short:         "Watch, promote and abort canary rollouts",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
		CompletionOptions: cobra.CompletionOptions{
			DisableDefaultCmd: true,
		},
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr(err) })
	configFlags.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(
		NewCmdGet(streams, f),
		NewCmdList(streams, f),
		NewCmdStatus(streams, f),
		NewCmdPromote(streams, f),
		NewCmdAbort(streams, f),
		NewCmdRetry(streams, f),
		NewCmdPause(streams, f),
		NewCmdResume(streams, f),
		NewCmdRestart(streams, f),
		NewCmdSet(streams, f),
		NewCmdUndo(streams, f),
		NewCmdAnalysis(streams, f),
		NewCmdTraffic(streams, f),
		NewCmdDashboard(streams, f),
		NewCmdLint(streams, f),
		NewCmdApps(streams, f),
		NewCmdDrift(streams, f),
		NewCmdEnv(streams, f),
		NewCmdRollback(streams, f),
		NewCmdHistory(streams, f),
		NewCmdPlugins(streams, f),
		NewCmdDoctor(streams, f),
		NewCmdVersion(streams, f),
		NewCmdCompletion(streams, f),
	)
	return cmd
}

// commandName is "kubectl nerve" when run as a kubectl plugin (argv[0] kubectl-nerve), else the
// binary's name.
func commandName() string {
	base := filepath.Base(os.Args[0])
	if strings.HasPrefix(base, "kubectl-") {
		return "kubectl " + strings.ReplaceAll(strings.TrimPrefix(base, "kubectl-"), "_", "-")
	}
	return base
}

// newGroupCmd is a command that only groups its subcommands: bare it prints its help, and an
// argument that names no subcommand is a usage error expecting one of subcommands.
func newGroupCmd(use, short, subcommands string, children ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(0, "a subcommand ("+subcommands+")"),
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(children...)
	return cmd
}

// exactArgs is cobra.ExactArgs with a usage exit code.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError("%s: expected %s, got %d argument(s)", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

// rolloutNames completes Rollout names in the current namespace.
func rolloutNames(f *Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := f.clients(false)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		list, err := c.rollouts().List(cmd.Context(), metav1.ListOptions{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []cobra.Completion
		for _, it := range list.Items {
			if strings.HasPrefix(it.GetName(), toComplete) {
				out = append(out, it.GetName())
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func printf(w interface{ Write([]byte) (int, error) }, format string, a ...any) error {
	_, err := fmt.Fprintf(w, format, a...)
	return err
}
