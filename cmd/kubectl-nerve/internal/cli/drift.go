package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/gitops"
	termview "github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/view"
)

// Exit codes of drift, as kubectl diff's: 0 no drift, 1 drift, >1 error.
const (
	exitDrift      = 1
	exitDriftError = 2
)

const driftLong = `Drift renders a Git directory (kustomize, in process) and compares it with the live objects: each
object is server-side applied with dry run, forced, as Argo CD's field manager (argocd-controller),
and the result, what a sync would leave, is compared with the live object field by field.

Every differing field is classed by who owns the live value (managedFields):
  manual    changed outside Git by another field manager (kubectl edit, patch)   counted
  pending   owned by the applier: Git changed and is not synced yet             counted
  missing   the object is in Git but not in the cluster                          counted
  router    a router's or the rollout controller's managed weights              not counted
  ignored   covered by the Application's ignoreDifferences                      not counted
  default   owned by no field manager (server defaults)                         not counted
Secret values are masked.

--app NAME [--env E] reads the Argo CD Application: its path in the working copy (--repo), its
destination namespace and its ignoreDifferences. --prometheus prints the result in Prometheus' text
format (nerve_drift_fields{class=...}) for a textfile collector or a push; alert on the counted
classes only (manifests/examples/drift-alert).

Exit codes (as kubectl diff): 0 no drift, 1 drift, >1 error.`

// DriftOptions are the options of `drift`.
type DriftOptions struct {
	genericiooptions.IOStreams
	f      *Factory
	output *outputFlags
	gitops gitopsFlags

	Path       string
	App        string
	Env        string
	Applier    string
	Prometheus bool
}

// NewCmdDrift is `drift PATH | --app NAME [--env E]`.
func NewCmdDrift(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &DriftOptions{IOStreams: streams, f: f, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:     "drift PATH | --app NAME [--env E]",
		Short:   "Compare a Git directory with the live objects; each differing field classed by owner",
		Long:    driftLong,
		Example: "  kubectl nerve drift --app clinical-ingestion --env prod --repo ~/src/nerve\n  kubectl nerve drift manifests/environments/prod/clinical-ingestion -o json",
		RunE: func(cmd *cobra.Command, args []string) error {
			return driftExit(runOptions(o)(cmd, args))
		},
	}
	cmd.Flags().StringVar(&o.App, "app", "", "Application (nerve.io/app) whose directory to compare")
	cmd.Flags().StringVar(&o.Env, "env", "", "Environment of --app (nerve.io/environment)")
	cmd.Flags().StringVar(&o.Applier, "field-manager", gitops.DefaultApplier, "Field manager of the GitOps applier")
	cmd.Flags().BoolVar(&o.Prometheus, "prometheus", false, "Print Prometheus text-format metrics instead")
	o.gitops.AddFlags(cmd, true)
	o.output.AddFlags(cmd)
	return cmd
}

// driftFound is the outcome "drift found" (exit 1), which is not an error of the command.
type driftFound struct{ n int }

func (d *driftFound) Error() string { return fmt.Sprintf("drift: %d field(s) differ from Git", d.n) }

// driftExit maps errors to exit codes above 1 (1 means drift).
func driftExit(err error) error {
	if err == nil {
		return nil
	}
	var found *driftFound
	if errors.As(err, &found) {
		return &ExitError{Code: exitDrift, Err: err}
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Code == ExitFailure {
			ee.Code = exitDriftError
		}
		return err
	}
	return &ExitError{Code: exitDriftError, Err: err}
}

// Complete takes PATH.
func (o *DriftOptions) Complete(args []string) error {
	if len(args) > 1 {
		return usageError("drift: expected at most one PATH, got %d", len(args))
	}
	if len(args) == 1 {
		o.Path = args[0]
	}
	return nil
}

// Validate checks that PATH or --app is given.
func (o *DriftOptions) Validate() error {
	if (o.Path == "") == (o.App == "") {
		return usageError("drift: give a PATH or --app NAME (one of them)")
	}
	if o.Env != "" && o.App == "" {
		return usageError("drift: --env needs --app")
	}
	return o.output.Validate()
}

// Run compares and reports.
func (o *DriftOptions) Run(ctx context.Context) error {
	differ, dir, rep, err := o.target(ctx)
	if err != nil {
		return err
	}
	objs, err := gitops.Render(dir)
	if err != nil {
		return err
	}
	res, err := differ.Diff(ctx, objs)
	if err != nil {
		return err
	}
	res.App, res.Env, res.Path = rep.App, rep.Env, rep.Path
	if err := o.print(res); err != nil {
		return err
	}
	if res.Drifted > 0 {
		return &driftFound{n: res.Drifted}
	}
	return nil
}

// target returns the differ, the directory to render and the report's header.
func (o *DriftOptions) target(ctx context.Context) (gitops.Differ, string, gitops.DriftReport, error) {
	mapper, err := o.f.Getter.ToRESTMapper()
	if err != nil {
		return gitops.Differ{}, "", gitops.DriftReport{}, err
	}
	d := gitops.Differ{Mapper: mapper, Applier: o.Applier}
	if o.Path != "" {
		d.Dynamic, err = o.f.Dynamic()
		if err != nil {
			return d, "", gitops.DriftReport{}, err
		}
		d.Namespace, err = o.f.Namespace()
		return d, o.Path, gitops.DriftReport{Path: o.Path}, err
	}
	repo, err := gitops.OpenGit(ctx, o.gitops.Repo)
	if err != nil {
		return d, "", gitops.DriftReport{}, err
	}
	t, err := o.gitops.resolve(ctx, o.f, repo, o.App, o.Env)
	if err != nil {
		return d, "", gitops.DriftReport{}, err
	}
	d.Dynamic, d.Namespace, d.Ignore = t.Dyn, t.NS, t.App.Spec.IgnoreDifferences
	return d, t.Dir, gitops.DriftReport{App: t.App.Name, Env: t.App.Environment(), Path: t.Rel}, nil
}

func (o *DriftOptions) print(rep gitops.DriftReport) error {
	switch {
	case o.Prometheus:
		_, err := o.Out.Write([]byte(gitops.PrometheusText(rep)))
		return err
	case !o.output.Human():
		r, err := report("DriftReport", driftName(rep), rep)
		if err != nil {
			return err
		}
		return o.output.Print(r, o.Out)
	}
	var rows [][]string
	for _, od := range rep.Objects {
		for _, f := range od.Fields {
			rows = append(rows, []string{od.Kind + "/" + od.Name, f.Path, value(f.Live), value(f.Git), f.Class, dash(f.Owner)})
		}
	}
	if len(rows) > 0 {
		if err := termview.Table(o.Out, []string{"OBJECT", "FIELD", "LIVE", "GIT", "CLASS", "OWNER"}, rows); err != nil {
			return err
		}
	}
	return printf(o.ErrOut, "%s\n", driftSummary(rep))
}

func driftName(rep gitops.DriftReport) string {
	if rep.App != "" {
		return rep.App
	}
	return filepath.Base(rep.Path)
}

func driftSummary(rep gitops.DriftReport) string {
	var classes []string
	for c, n := range rep.ByClass {
		classes = append(classes, fmt.Sprintf("%s %d", c, n))
	}
	sort.Strings(classes)
	detail := ""
	if len(classes) > 0 {
		detail = " (" + strings.Join(classes, ", ") + ")"
	}
	if rep.Drifted == 0 {
		return fmt.Sprintf("no drift: %d object(s) match Git; %d field(s) differ as expected%s", rep.Compared, rep.NotCounted, detail)
	}
	return fmt.Sprintf("drift: %d field(s) differ from Git in %d compared object(s); %d not counted%s", rep.Drifted, rep.Compared, rep.NotCounted, detail)
}

func value(v any) string {
	if v == nil {
		return "<none>"
	}
	s := fmt.Sprint(v)
	if m, ok := v.(map[string]any); ok {
		s = fmt.Sprintf("{%d fields}", len(m))
	}
	if l, ok := v.([]any); ok {
		s = fmt.Sprintf("[%d items]", len(l))
	}
	if len(s) > 48 {
		s = s[:45] + "..."
	}
	return s
}
