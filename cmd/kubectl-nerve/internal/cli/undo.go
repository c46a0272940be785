package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// UndoOptions are the options of `undo`.
type UndoOptions struct {
	genericiooptions.IOStreams
	rolloutTarget
	f *Factory

	ToRevision int64
	guard      selfHealGuard
}

// NewCmdUndo is `undo NAME [--to-revision N]`.
func NewCmdUndo(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &UndoOptions{IOStreams: streams, f: f}
	cmd := &cobra.Command{
		Use:               "undo NAME",
		Short:             "Roll the pod template back to an earlier revision (default: the previous one)",
		Long:              "Undo replaces spec.template with the template of an earlier revision's ReplicaSet (a JSON patch, as Argo's CLI sends).\nUnder GitOps, revert the change in Git instead: a self-healing sync puts the new template back.",
		Example:           "  kubectl nerve undo mllp-listener --to-revision 3",
		Args:              exactArgs(1, "a rollout NAME"),
		ValidArgsFunction: rolloutNames(f),
		RunE:              runOptions(o),
	}
	cmd.Flags().Int64Var(&o.ToRevision, "to-revision", 0, "The revision to roll back to (0: the previous one)")
	o.guard.AddFlags(cmd)
	return cmd
}

// Complete fills the name and clients.
func (o *UndoOptions) Complete(args []string) error {
	return o.complete(o.f, args, true)
}

// Validate checks --to-revision.
func (o *UndoOptions) Validate() error {
	if o.ToRevision < 0 {
		return usageError("--to-revision must be >= 0")
	}
	return nil
}

// Run restores the template.
func (o *UndoOptions) Run(ctx context.Context) error {
	u, ro, err := o.c.getRollout(ctx, o.Name)
	if err != nil {
		return err
	}
	if err := o.guard.check(ctx, o.f, u, "undo", o.ErrOut); err != nil {
		return err
	}
	rs, err := o.revision(ctx, ro)
	if err != nil {
		return err
	}
	tmpl := rs.Spec.Template.DeepCopy()
	delete(tmpl.Labels, v1alpha1.DefaultRolloutUniqueLabelKey)
	if sameTemplate(&ro.Spec.Template, tmpl) {
		return printf(o.Out, "skipped rollback (current template already matches revision %s)\n", rs.Annotations[v1alpha1.RevisionAnnotation])
	}
	patch, err := json.Marshal([]any{map[string]any{"op": "replace", "path": "/spec/template", "value": tmpl}})
	if err != nil {
		return err
	}
	if _, err := o.c.rollouts().Patch(ctx, o.Name, types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("failed restoring revision %s: %w", rs.Annotations[v1alpha1.RevisionAnnotation], err)
	}
	return printf(o.Out, "rollout '%s' undo (to revision %s)\n", o.Name, rs.Annotations[v1alpha1.RevisionAnnotation])
}

func sameTemplate(a, b *corev1.PodTemplateSpec) bool {
	x, y := a.DeepCopy(), b.DeepCopy()
	delete(x.Labels, v1alpha1.DefaultRolloutUniqueLabelKey)
	delete(y.Labels, v1alpha1.DefaultRolloutUniqueLabelKey)
	return equality.Semantic.DeepEqual(x, y)
}

// revision finds the ReplicaSet of --to-revision, or the second newest revision.
func (o *UndoOptions) revision(ctx context.Context, ro *v1alpha1.Rollout) (*appsv1.ReplicaSet, error) {
	rss, err := o.c.read.ReplicaSets(ctx, ro)
	if err != nil {
		return nil, fmt.Errorf("rollout %s: %w", o.Name, err)
	}
	var latest, previous *appsv1.ReplicaSet
	latestRev, previousRev := int64(-1), int64(-1)
	for i := range rss {
		rs := &rss[i]
		v, err := strconv.ParseInt(rs.Annotations[v1alpha1.RevisionAnnotation], 10, 64)
		if err != nil {
			continue
		}
		if o.ToRevision > 0 {
			if v == o.ToRevision {
				return rs, nil
			}
			continue
		}
		switch {
		case v > latestRev:
			previous, previousRev = latest, latestRev
			latest, latestRev = rs, v
		case v > previousRev:
			previous, previousRev = rs, v
		}
	}
	if o.ToRevision > 0 {
		return nil, fmt.Errorf("unable to find specified revision %d in history", o.ToRevision)
	}
	if previous == nil {
		return nil, fmt.Errorf("no previous revision found for rollout %q", o.Name)
	}
	return previous, nil
}
