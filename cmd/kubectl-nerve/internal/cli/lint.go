package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/lint"
)

// LintReport is what `lint -o json|yaml` prints.
type LintReport struct {
	Errors   int            `json:"errors"`
	Warnings int            `json:"warnings"`
	Findings []lint.Finding `json:"findings"`
}

// LintOptions are the options of `lint`.
type LintOptions struct {
	genericiooptions.IOStreams
	output *outputFlags
	Files  []string
}

// NewCmdLint is `lint -f FILE...`: offline checks with file:line in every finding.
func NewCmdLint(streams genericiooptions.IOStreams, _ *Factory) *cobra.Command {
	o := &LintOptions{IOStreams: streams, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "lint -f FILE",
		Short: "Check Rollouts, AnalysisTemplates and plugin config offline (file:line in every finding)",
		Long: `Check Rollouts, AnalysisTemplates and plugin configuration (trafficRouting/metric plugin configs, the
argo-rollouts-config registry) without a cluster. Errors name what keeps a rollout from running; warnings
name what runs but cannot work as it reads (a metric that can never fail). Exit 1 when there are errors;
warnings alone exit 0. "-f -" reads standard input.`,
		Example: "  kubectl nerve lint -f deploy/mllp-listener.yaml",
		Args:    exactArgs(0, "no arguments (use -f FILE)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringArrayVarP(&o.Files, "filename", "f", nil, "File to lint (repeatable; - for stdin)")
	o.output.AddFlags(cmd)
	return cmd
}

// Validate checks that a file was given.
func (o *LintOptions) Validate() error {
	if len(o.Files) == 0 {
		return usageError("lint: -f FILE is required")
	}
	return o.output.Validate()
}

// Run lints the files.
func (o *LintOptions) Run(_ context.Context) error {
	var rep LintReport
	for _, name := range o.Files {
		data, err := o.read(name)
		if err != nil {
			return err
		}
		rep.Findings = append(rep.Findings, lint.Lint(name, data)...)
	}
	for _, f := range rep.Findings {
		if f.Severity == lint.Error {
			rep.Errors++
		} else {
			rep.Warnings++
		}
	}
	if err := o.print(rep); err != nil {
		return err
	}
	if rep.Errors > 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("lint: %d error(s), %d warning(s)", rep.Errors, rep.Warnings)}
	}
	return nil
}

func (o *LintOptions) read(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(o.In)
	}
	return os.ReadFile(name)
}

func (o *LintOptions) print(rep LintReport) error {
	if !o.output.Human() {
		r, err := report("LintReport", "lint", rep)
		if err != nil {
			return err
		}
		return o.output.Print(r, o.Out)
	}
	for _, f := range rep.Findings {
		if err := printf(o.Out, "%s\n", f); err != nil {
			return err
		}
	}
	if rep.Errors == 0 {
		return printf(o.ErrOut, "lint: no errors, %d warning(s)\n", rep.Warnings)
	}
	return nil
}
