package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/gitops"
)

const envPromoteLong = `Promote writes the images the source environment's Git directory declares into the target
environment's kustomize overlay (its images: field) in the working copy (--repo), as one commit made
with your git (your credentials and signing apply), with trailers naming the source environment, the
source revision and the AnalysisRuns that passed. The commit is pushed to the branch's upstream, or
left for review with --no-push. Argo CD then syncs the target; nerve never syncs.

It refuses (exit 1, nothing written) when:
  - the source's canary of that exact revision did not pass analysis: every AnalysisRun of the
    ReplicaSet running those images must be Successful, and the Rollout Healthy on it;
  - the revision was rolled back in the target (its nerve-rejected.yaml lists it);
  - the target directory has uncommitted changes;
  - the remote moved and a rebase onto it (tried once) fails.`

// EnvPromoteOptions are the options of `env promote`.
type EnvPromoteOptions struct {
	genericiooptions.IOStreams
	f      *Factory
	gitops gitopsFlags

	App    string
	From   string
	To     string
	NoPush bool
	DryRun bool
}

// NewCmdEnvPromote is `env promote APP --from E --to E`.
func NewCmdEnvPromote(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &EnvPromoteOptions{IOStreams: streams, f: f}
	cmd := &cobra.Command{
		Use:     "promote APP --from ENV --to ENV",
		Short:   "Promote an app's revision between environments in Git, gated on the source's analysis",
		Long:    envPromoteLong,
		Example: "  kubectl nerve env promote clinical-ingestion --from staging --to prod --repo ~/src/nerve",
		Args:    exactArgs(1, "an APP"),
		RunE:    runOptions(o),
	}
	cmd.Flags().StringVar(&o.From, "from", "", "Source environment")
	cmd.Flags().StringVar(&o.To, "to", "", "Target environment")
	cmd.Flags().BoolVar(&o.NoPush, "no-push", false, "Commit but do not push (leave the commit for review)")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "Check the gate and show the change; write nothing")
	o.gitops.AddFlags(cmd, true)
	return cmd
}

// Complete takes APP.
func (o *EnvPromoteOptions) Complete(args []string) error {
	o.App = args[0]
	return nil
}

// Validate checks --from and --to.
func (o *EnvPromoteOptions) Validate() error {
	if o.From == "" || o.To == "" {
		return usageError("env promote: --from and --to are required")
	}
	if o.From == o.To {
		return usageError("env promote: --from and --to are the same environment")
	}
	return nil
}

// refuse is a refusal: exit 1, nothing written.
func refuse(format string, a ...any) error {
	return &ExitError{Code: ExitFailure, Err: fmt.Errorf("refused: "+format, a...)}
}

// Run checks the gate and writes the promotion.
func (o *EnvPromoteOptions) Run(ctx context.Context) error {
	repo, err := gitops.OpenGit(ctx, o.gitops.Repo)
	if err != nil {
		return err
	}
	src, err := o.gitops.resolve(ctx, o.f, repo, o.App, o.From)
	if err != nil {
		return err
	}
	dst, err := o.gitops.resolve(ctx, o.f, repo, o.App, o.To)
	if err != nil {
		return err
	}
	if err := o.syncWorkingCopy(ctx, repo, dst); err != nil {
		return err
	}
	p, err := o.plan(ctx, repo, src, dst)
	if err != nil || p == nil {
		return err
	}
	return o.write(ctx, repo, src, dst, p)
}

// syncWorkingCopy refuses a dirty target and fast-forwards to a moved upstream.
func (o *EnvPromoteOptions) syncWorkingCopy(ctx context.Context, repo *gitops.Git, dst *envTarget) error {
	if dirty, err := repo.Dirty(ctx, dst.Rel); err != nil {
		return err
	} else if dirty != "" {
		return refuse("the target %s has uncommitted changes:\n%s", dst.Rel, dirty)
	}
	if o.NoPush && o.DryRun {
		return nil
	}
	behind, err := repo.Fetch(ctx)
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if behind {
		if _, err := repo.Run(ctx, "merge", "--ff-only", "@{u}"); err != nil {
			return refuse("the remote moved and the working copy cannot fast-forward: %v", err)
		}
		fmt.Fprintln(o.ErrOut, "the remote moved: fast-forwarded the working copy")
	}
	return nil
}

// promotion is what will be written.
type promotion struct {
	images   []string
	before   []string
	verdicts []gitops.RolloutVerdict
	srcRev   string
}

// plan checks the gate and returns the promotion (nil when the target already has it).
func (o *EnvPromoteOptions) plan(ctx context.Context, repo *gitops.Git, src, dst *envTarget) (*promotion, error) {
	objs, err := gitops.Render(src.Dir)
	if err != nil {
		return nil, err
	}
	p := &promotion{images: gitops.Images(objs)}
	if len(p.images) == 0 {
		return nil, fmt.Errorf("%s declares no workload images to promote", src.Rel)
	}
	if p.verdicts, err = gitops.Verdicts(ctx, src.Read, src.NS, objs); err != nil {
		return nil, err
	}
	if len(p.verdicts) == 0 {
		return nil, refuse("%s has no Rollout: nothing was analysed in %s", src.Rel, o.From)
	}
	for _, v := range p.verdicts {
		if !v.Passed() {
			return nil, refuse("the canary of %s in %s did not pass analysis for %s: %s (%s, rollout %s)",
				v.Rollout, o.From, strings.Join(v.Images, ","), v.Verdict, v.Message, v.Phase)
		}
	}
	rej, err := gitops.ReadRejections(dst.Dir)
	if err != nil {
		return nil, err
	}
	if r := rej.Find(p.images); r != nil {
		return nil, refuse("%s was rolled back in %s (%s, %s); delete its entry from %s/%s to clear it",
			strings.Join(r.Images, ","), o.To, r.Reason, r.RolledBackAt, dst.Rel, gitops.RejectedFile)
	}
	before, err := gitops.Render(dst.Dir)
	if err != nil {
		return nil, err
	}
	if p.before = gitops.Images(before); slices.Equal(p.before, p.images) {
		fmt.Fprintf(o.ErrOut, "%s already declares %s: nothing to promote\n", dst.Rel, strings.Join(p.images, ","))
		return nil, nil
	}
	p.srcRev = src.App.Status.Sync.Revision
	if p.srcRev == "" {
		p.srcRev, _ = repo.LastCommit(ctx, "HEAD", src.Rel)
	}
	return p, nil
}

func (o *EnvPromoteOptions) write(ctx context.Context, repo *gitops.Git, src, dst *envTarget, p *promotion) error {
	printf(o.Out, "promote %s %s → %s: %s → %s\n", o.App, o.From, o.To, strings.Join(p.before, ","), strings.Join(p.images, ","))
	for _, v := range p.verdicts {
		for _, r := range v.Runs {
			printf(o.Out, "  analysis %s/%s: %s\n", src.NS, r.Name, r.Phase)
		}
	}
	if o.DryRun {
		return printf(o.Out, "dry run: %s not changed\n", dst.Rel)
	}
	if err := gitops.SetImages(dst.Dir, p.images); err != nil {
		return err
	}
	if err := verifyRendered(dst.Dir, p.images); err != nil {
		_, _ = repo.Run(ctx, "checkout", "--", dst.Rel)
		return err
	}
	commit, err := repo.Commit(ctx, o.subject(p), "", o.trailers(src, p), dst.Rel)
	if err != nil {
		return err
	}
	printf(o.Out, "committed %s in %s\n", shortCommit(commit), repo.Dir)
	if o.NoPush {
		return printf(o.Out, "not pushed (--no-push): review and push it yourself\n")
	}
	up, err := repo.Push(ctx)
	if errors.Is(err, gitops.ErrRemoteMoved) {
		return refuse("%v", err)
	}
	if err != nil {
		return err
	}
	head, _ := repo.Head(ctx)
	return printf(o.Out, "pushed %s to %s\n", shortCommit(head), up)
}

func verifyRendered(dir string, images []string) error {
	after, err := gitops.Render(dir)
	if err != nil {
		return err
	}
	if got := gitops.Images(after); !slices.Equal(got, images) {
		return fmt.Errorf("%s renders %s after the edit, want %s: edit its images: by hand", dir, strings.Join(got, ","), strings.Join(images, ","))
	}
	return nil
}

func (o *EnvPromoteOptions) subject(p *promotion) string {
	var tags []string
	for _, img := range p.images {
		r := gitops.ParseImage(img)
		tags = append(tags, lastSegment(r.Name)+":"+r.Tag)
	}
	return fmt.Sprintf("promote %s %s → %s: %s", o.App, o.From, o.To, strings.Join(tags, ", "))
}

func lastSegment(s string) string {
	return s[strings.LastIndex(s, "/")+1:]
}

func (o *EnvPromoteOptions) trailers(src *envTarget, p *promotion) []string {
	t := []string{
		"Nerve-Promoted-From: " + o.From,
		"Nerve-Promoted-To: " + o.To,
		"Nerve-Source-Application: " + src.App.Name,
		"Nerve-Source-Revision: " + p.srcRev,
	}
	for _, img := range p.images {
		t = append(t, "Nerve-Image: "+img)
	}
	for _, v := range p.verdicts {
		for _, r := range v.Runs {
			t = append(t, fmt.Sprintf("Nerve-Analysis-Run: %s/%s %s", src.NS, r.Name, r.Phase))
		}
	}
	return t
}
