package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/gitops"
)

const rollbackLong = `Rollback is the GitOps rollback of a Rollout that Argo CD deploys, in an order that never fights
self-heal:
  1. abort the Rollout (status.abort, status only: Argo CD leaves it alone), so traffic and replicas go
     back to stable at once;
  2. revert, in the working copy (--repo), the last commit that changed the Application's directory
     (the promotion), limited to that directory, and record the rejected images in its
     nerve-rejected.yaml, so env promote refuses them until the entry is deleted;
  3. commit (your git, your signing) and push, or leave it for review with --no-push.
Argo CD then syncs the reverted template, which matches the stable ReplicaSet: the Rollout is healthy.`

// RollbackOptions are the options of `rollback`.
type RollbackOptions struct {
	genericiooptions.IOStreams
	rolloutTarget
	f      *Factory
	gitops gitopsFlags

	NoPush bool
	Reason string
}

// NewCmdRollback is `rollback NAME`.
func NewCmdRollback(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &RollbackOptions{IOStreams: streams, f: f}
	cmd := &cobra.Command{
		Use:               "rollback NAME",
		Short:             "Abort a Rollout, then revert its promotion in Git (never fights Argo CD's self-heal)",
		Long:              rollbackLong,
		Example:           "  kubectl nerve rollback mllp-listener -n clinical-ingestion --repo ~/src/nerve",
		Args:              exactArgs(1, "a rollout NAME"),
		ValidArgsFunction: rolloutNames(f),
		RunE:              runOptions(o),
	}
	cmd.Flags().BoolVar(&o.NoPush, "no-push", false, "Commit the revert but do not push it")
	cmd.Flags().StringVar(&o.Reason, "reason", "", "Why (recorded with the rejected revision)")
	o.gitops.AddFlags(cmd, true)
	return cmd
}

// Complete fills the name and clients.
func (o *RollbackOptions) Complete(args []string) error { return o.complete(o.f, args, true) }

// Validate has nothing to check.
func (o *RollbackOptions) Validate() error { return nil }

// Run aborts, reverts and records.
func (o *RollbackOptions) Run(ctx context.Context) error {
	u, _, err := o.c.getRollout(ctx, o.Name)
	if err != nil {
		return err
	}
	owner := gitops.Owner(u)
	if owner == "" {
		return fmt.Errorf("rollout %s is not tracked by an Argo CD Application (no %s annotation or %s label): use `kubectl nerve abort` and `undo`", o.Name, gitops.AnnotationTrackingID, gitops.LabelInstance)
	}
	apps, err := o.gitops.apps(o.f)
	if err != nil {
		return err
	}
	app, err := apps.Get(ctx, owner)
	if err != nil {
		return fmt.Errorf("application %s of rollout %s: %w", owner, o.Name, err)
	}
	repo, err := gitops.OpenGit(ctx, o.gitops.Repo)
	if err != nil {
		return err
	}
	if err := abortRollout(ctx, o.c, o.Name); err != nil {
		return err
	}
	printf(o.Out, "rollout '%s' aborted\n", o.Name)
	return o.revert(ctx, repo, app, u)
}

func (o *RollbackOptions) revert(ctx context.Context, repo *gitops.Git, app *gitops.Application, u *unstructured.Unstructured) error {
	rel := app.Path()
	if dirty, err := repo.Dirty(ctx, rel); err != nil || dirty != "" {
		return errors.Join(err, fmt.Errorf("refused to revert: %s has uncommitted changes:\n%s", rel, dirty))
	}
	commit, err := repo.LastCommit(ctx, "HEAD", rel)
	if err != nil || commit == "" {
		return errors.Join(err, fmt.Errorf("no commit changed %s", rel))
	}
	diff, err := repo.Run(ctx, "diff", "--binary", commit+"^", commit, "--", rel)
	if err != nil {
		return err
	}
	if _, err := repo.RunInput(ctx, []byte(diff), "apply", "-R", "--index"); err != nil {
		return fmt.Errorf("revert %s in %s: %w", shortCommit(commit), rel, err)
	}
	rejected := gitops.Images([]*unstructured.Unstructured{u})
	subject, _ := repo.Run(ctx, "show", "-s", "--format=%s", commit)
	rej := gitops.Rejection{Images: rejected, Rollout: u.GetNamespace() + "/" + o.Name, Reason: o.reason(),
		RolledBackAt: o.f.Now().UTC().Format("2006-01-02T15:04:05Z"), RevertOf: commit}
	if err := gitops.AddRejection(repo.Abs(rel), rej); err != nil {
		return err
	}
	trailers := []string{"Nerve-Rollback-Of: " + commit, "Nerve-Application: " + app.Name}
	for _, img := range rejected {
		trailers = append(trailers, "Nerve-Rejected-Image: "+img)
	}
	c, err := repo.Commit(ctx, fmt.Sprintf("Revert %q in %s", strings.TrimSpace(subject), app.Name),
		fmt.Sprintf("kubectl nerve rollback %s: the Rollout was aborted; this reverts %s in %s.", o.Name, commit, rel), trailers, rel)
	if err != nil {
		return err
	}
	printf(o.Out, "reverted %s in %s: commit %s (rejected %s)\n", shortCommit(commit), rel, shortCommit(c), strings.Join(rejected, ","))
	if o.NoPush {
		return printf(o.Out, "not pushed (--no-push): push it so Argo CD syncs the revert\n")
	}
	up, err := repo.Push(ctx)
	if err != nil {
		return err
	}
	return printf(o.Out, "pushed to %s\n", up)
}

func (o *RollbackOptions) reason() string {
	if o.Reason != "" {
		return o.Reason
	}
	return "kubectl nerve rollback"
}
