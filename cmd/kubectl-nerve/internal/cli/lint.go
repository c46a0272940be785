package cli

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
	// GitOps checks Argo CD Applications and ApplicationSets of the whole tree (-f takes
	// directories) instead of Rollouts.
	GitOps bool
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
warnings alone exit 0. "-f -" reads standard input.

--gitops checks the Argo CD Applications and ApplicationSets of a whole tree instead (-f takes
directories, read recursively): sync waves on Applications with no Application health in argocd-cm,
ServerSideApply without ServerSideDiff, ignoreDifferences a sync would reset (no
RespectIgnoreDifferences=true).`,
		Example: "  kubectl nerve lint -f deploy/mllp-listener.yaml\n  kubectl nerve lint --gitops -f manifests/argocd",
		Args:    exactArgs(0, "no arguments (use -f FILE)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringArrayVarP(&o.Files, "filename", "f", nil, "File to lint (repeatable; - for stdin; a directory with --gitops)")
	cmd.Flags().BoolVar(&o.GitOps, "gitops", false, "Check Argo CD Applications/ApplicationSets of a tree (sync waves, server-side diff, ignoreDifferences)")
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
	if o.GitOps {
		files, err := o.readTree()
		if err != nil {
			return err
		}
		rep.Findings = lint.LintGitOps(files)
	}
	for _, name := range o.Files {
		if o.GitOps {
			break
		}
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

// readTree reads every -f file, and every .yaml/.yml file under each -f directory.
func (o *LintOptions) readTree() (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, name := range o.Files {
		if fi, err := os.Stat(name); err != nil || !fi.IsDir() {
			data, err := o.read(name)
			if err != nil {
				return nil, err
			}
			files[name] = data
			continue
		}
		err := filepath.WalkDir(name, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !isYAML(p) {
				return err
			}
			data, err := os.ReadFile(p)
			files[p] = data
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

func isYAML(p string) bool {
	return strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")
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
