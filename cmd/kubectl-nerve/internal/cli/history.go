package cli

import (
	"context"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/gitops"
	termview "github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/view"
)

// HistoryEntry is one commit of an app's directory with the verdict of its revision.
type HistoryEntry struct {
	gitops.LogEntry
	Images   []string `json:"images"`
	Verdict  string   `json:"verdict"`
	Rejected bool     `json:"rejected,omitempty"`
}

// HistoryOptions are the options of `history`.
type HistoryOptions struct {
	genericiooptions.IOStreams
	f      *Factory
	output *outputFlags
	gitops gitopsFlags

	App   string
	Env   string
	Limit int
}

// NewCmdHistory is `history APP --env E`.
func NewCmdHistory(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &HistoryOptions{IOStreams: streams, f: f, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:     "history APP --env ENV",
		Short:   "Git log of an app's environment directory, with the analysis verdict of each revision",
		Example: "  kubectl nerve history clinical-ingestion --env prod --repo ~/src/nerve",
		Args:    exactArgs(1, "an APP"),
		RunE:    runOptions(o),
	}
	cmd.Flags().StringVar(&o.Env, "env", "", "Environment")
	cmd.Flags().IntVar(&o.Limit, "limit", 10, "Commits to show")
	o.gitops.AddFlags(cmd, true)
	o.output.AddFlags(cmd)
	return cmd
}

// Complete takes APP.
func (o *HistoryOptions) Complete(args []string) error {
	o.App = args[0]
	return nil
}

// Validate checks the flags.
func (o *HistoryOptions) Validate() error {
	if o.Limit < 1 {
		return usageError("--limit must be >= 1")
	}
	return o.output.Validate()
}

// Run joins the log with the verdicts.
func (o *HistoryOptions) Run(ctx context.Context) error {
	repo, err := gitops.OpenGit(ctx, o.gitops.Repo)
	if err != nil {
		return err
	}
	t, err := o.gitops.resolve(ctx, o.f, repo, o.App, o.Env)
	if err != nil {
		return err
	}
	log, err := repo.Log(ctx, t.Rel, o.Limit)
	if err != nil {
		return err
	}
	rej, err := gitops.ReadRejections(t.Dir)
	if err != nil {
		return err
	}
	var entries []HistoryEntry
	for _, l := range log {
		entries = append(entries, o.entry(ctx, repo, t, l, rej))
	}
	if !o.output.Human() {
		r, err := report("History", t.App.Name, map[string]any{"path": t.Rel, "items": entries})
		if err != nil {
			return err
		}
		return o.output.Print(r, o.Out)
	}
	var rows [][]string
	for _, e := range entries {
		v := e.Verdict
		if e.Rejected {
			v += " (rejected)"
		}
		rows = append(rows, []string{shortCommit(e.Commit), e.Date, e.Author, strings.Join(e.Images, ","), v, e.Subject})
	}
	return termview.Table(o.Out, []string{"COMMIT", "DATE", "AUTHOR", "IMAGE", "ANALYSIS", "SUBJECT"}, rows)
}

func (o *HistoryOptions) entry(ctx context.Context, repo *gitops.Git, t *envTarget, l gitops.LogEntry, rej gitops.Rejections) HistoryEntry {
	e := HistoryEntry{LogEntry: l, Verdict: "-"}
	tmp, err := os.MkdirTemp("", "nerve-history-")
	if err != nil {
		e.Verdict = "error: " + err.Error()
		return e
	}
	defer os.RemoveAll(tmp)
	objs, err := repo.RenderAt(ctx, l.Commit, t.Rel, tmp)
	if err != nil {
		e.Verdict = "error: " + err.Error()
		return e
	}
	e.Images = gitops.Images(objs)
	e.Rejected = rej.Find(e.Images) != nil
	vs, err := gitops.Verdicts(ctx, t.Read, t.NS, objs)
	if err != nil {
		e.Verdict = "error: " + err.Error()
		return e
	}
	if s := summarize(vs); s != "" {
		e.Verdict = s
	}
	return e
}
