package cli

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/gitops"
	termview "github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/view"
)

// NewCmdEnv is `env`, the parent of `env status` and `env promote`.
func NewCmdEnv(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	return newGroupCmd("env", "Environments in Git (dev → staging → prod): status and promotion gated on analysis", "status, promote",
		NewCmdEnvStatus(streams, f), NewCmdEnvPromote(streams, f))
}

// EnvStatusRow is one app in one environment.
type EnvStatusRow struct {
	App         string                  `json:"app"`
	Environment string                  `json:"environment"`
	Application string                  `json:"application"`
	GitImages   []string                `json:"gitImages"`
	GitCommit   string                  `json:"gitCommit"`
	Sync        string                  `json:"sync"`
	LiveCommit  string                  `json:"liveRevision"`
	LiveImages  []string                `json:"liveImages"`
	Verdict     string                  `json:"verdict"`
	Rollouts    []gitops.RolloutVerdict `json:"rollouts,omitempty"`
	Error       string                  `json:"error,omitempty"`
}

// EnvStatusOptions are the options of `env status`.
type EnvStatusOptions struct {
	genericiooptions.IOStreams
	f      *Factory
	output *outputFlags
	gitops gitopsFlags

	Apps []string
	Envs []string
}

// NewCmdEnvStatus is `env status [APP...]`.
func NewCmdEnvStatus(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &EnvStatusOptions{IOStreams: streams, f: f, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "status [APP...]",
		Short: "Apps × environments: image and commit in Git, live revision, analysis verdict of that exact revision",
		Long: `Status shows, for each app and environment: the images its Git directory declares (rendered from the
working copy, --repo) and the last commit of that directory; the revision the Application is synced to and
the images its Rollouts run; and the verdict of the AnalysisRuns of the ReplicaSet running exactly the
Git images (Successful, Failed, Running, NoAnalysis, NotDeployed).`,
		Example: "  kubectl nerve env status --repo ~/src/nerve\n  kubectl nerve env status clinical-ingestion -o json",
		RunE:    runOptions(o),
	}
	cmd.Flags().StringSliceVar(&o.Envs, "envs", []string{"dev", "staging", "prod"}, "Environments, in promotion order")
	o.gitops.AddFlags(cmd, true)
	o.output.AddFlags(cmd)
	return cmd
}

// Complete takes the apps.
func (o *EnvStatusOptions) Complete(args []string) error {
	o.Apps = args
	return nil
}

// Validate checks -o.
func (o *EnvStatusOptions) Validate() error { return o.output.Validate() }

// Run reads every app × environment.
func (o *EnvStatusOptions) Run(ctx context.Context) error {
	repo, err := gitops.OpenGit(ctx, o.gitops.Repo)
	if err != nil {
		return err
	}
	apps, err := o.appNames(ctx)
	if err != nil {
		return err
	}
	var rows []EnvStatusRow
	for _, app := range apps {
		for _, env := range o.Envs {
			rows = append(rows, o.row(ctx, repo, app, env))
		}
	}
	if !o.output.Human() {
		r, err := report("EnvStatus", "env-status", map[string]any{"items": rows})
		if err != nil {
			return err
		}
		return o.output.Print(r, o.Out)
	}
	var table [][]string
	for _, r := range rows {
		table = append(table, []string{r.App, r.Environment, strings.Join(r.GitImages, ","), shortCommit(r.GitCommit),
			dash(r.Sync), dash(shortCommit(r.LiveCommit)), dash(strings.Join(r.LiveImages, ",")), verdictCell(r)})
	}
	return termview.Table(o.Out, []string{"APP", "ENV", "GIT IMAGE", "GIT COMMIT", "SYNC", "LIVE REVISION", "LIVE IMAGE", "ANALYSIS"}, table)
}

func verdictCell(r EnvStatusRow) string {
	if r.Error != "" {
		return "error: " + r.Error
	}
	return dash(r.Verdict)
}

// appNames are the requested apps, else every app (nerve.io/app) of the Applications.
func (o *EnvStatusOptions) appNames(ctx context.Context) ([]string, error) {
	if len(o.Apps) > 0 {
		return o.Apps, nil
	}
	apps, err := o.gitops.apps(o.f)
	if err != nil {
		return nil, err
	}
	list, err := apps.List(ctx, gitops.LabelApp+","+gitops.LabelEnvironment)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range list {
		if !slices.Contains(out, a.AppName()) {
			out = append(out, a.AppName())
		}
	}
	sort.Strings(out)
	return out, nil
}

func (o *EnvStatusOptions) row(ctx context.Context, repo *gitops.Git, app, env string) EnvStatusRow {
	r := EnvStatusRow{App: app, Environment: env}
	t, err := o.gitops.resolve(ctx, o.f, repo, app, env)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Application, r.Sync, r.LiveCommit = t.App.Name, t.App.Status.Sync.Status, t.App.Status.Sync.Revision
	objs, err := gitops.Render(t.Dir)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.GitImages = gitops.Images(objs)
	r.GitCommit, _ = repo.LastCommit(ctx, "HEAD", t.Rel)
	r.LiveImages = liveImages(ctx, t, objs)
	r.Rollouts, err = gitops.Verdicts(ctx, t.Read, t.NS, objs)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Verdict = summarize(r.Rollouts)
	return r
}

// liveImages are the images the live Rollouts of the Git directory declare.
func liveImages(ctx context.Context, t *envTarget, objs []*unstructured.Unstructured) []string {
	var live []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() != "Rollout" {
			continue
		}
		u, _, err := t.Read.Get(ctx, t.NS, o.GetName())
		if err == nil {
			live = append(live, u)
		}
	}
	return gitops.Images(live)
}

// summarize is the worst verdict of the app's Rollouts ("-" when it has none).
func summarize(vs []gitops.RolloutVerdict) string {
	order := []string{gitops.VerdictFailed, gitops.VerdictNotDeployed, gitops.VerdictRunning, gitops.VerdictNoAnalysis, gitops.VerdictSuccessful}
	worst := len(order)
	for _, v := range vs {
		if i := slices.Index(order, v.Verdict); i >= 0 && i < worst {
			worst = i
		}
	}
	if worst == len(order) {
		return ""
	}
	out := order[worst]
	if out == gitops.VerdictSuccessful {
		for _, v := range vs {
			if !v.Stable {
				return fmt.Sprintf("%s (canary, not promoted yet)", out)
			}
		}
	}
	return out
}
