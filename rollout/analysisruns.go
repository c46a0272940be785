package rollout

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/analysis"
)

// Default AnalysisRun history limits (Argo's defaults).
const defaultRunHistoryLimit = 5

// runsOf lists the AnalysisRuns the Rollout controls.
func (rc *rolloutCtx) runsOf() ([]*v1alpha1.AnalysisRun, error) {
	items, err := rc.c.runs.GetIndexer().ByIndex(cache.NamespaceIndex, rc.ro.Namespace)
	if err != nil {
		return nil, err
	}
	var out []*v1alpha1.AnalysisRun
	for _, it := range items {
		run := it.(*v1alpha1.AnalysisRun)
		if metav1.IsControlledBy(run, rc.ro) {
			out = append(out, run)
		}
	}
	// creationTimestamps have one-second resolution: runs of one second are ordered by the
	// revision they belong to, then by name, so that "the newest" is deterministic
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		if ra, rb := revisionOf(a), revisionOf(b); ra != rb {
			return ra < rb
		}
		return a.Name < b.Name
	})
	return out, nil
}

func nameOf(s *v1alpha1.RolloutAnalysisRunStatus) string {
	if s == nil {
		return ""
	}
	return s.Name
}

func runStatus(run *v1alpha1.AnalysisRun) *v1alpha1.RolloutAnalysisRunStatus {
	return &v1alpha1.RolloutAnalysisRunStatus{Name: run.Name, Status: run.Status.Phase, Message: run.Status.Message}
}

func (rc *rolloutCtx) createRun(ctx context.Context, name string, ra v1alpha1.RolloutAnalysis, typ string, idx *int32) (*v1alpha1.AnalysisRun, error) {
	run, err := rc.buildRun(name, ra, typ, idx)
	if err != nil {
		return nil, err
	}
	for attempt := 0; attempt < 10; attempt++ {
		created, err := rc.c.api.CreateAnalysisRun(ctx, run)
		if err == nil {
			rc.event("Normal", "AnalysisRunRunning", "%s Analysis Run '%s' Status New: '' Previous: ''", typ, created.Name)
			return created, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create AnalysisRun %s: %w", run.Name, err)
		}
		existing, gerr := rc.c.api.GetAnalysisRun(ctx, run.Namespace, run.Name)
		if gerr != nil {
			return nil, gerr
		}
		if !existing.Spec.Terminate && !analysis.Bad(existing.Status.Phase) && metav1.IsControlledBy(existing, rc.ro) {
			return existing, nil
		}
		run.Name = fmt.Sprintf("%s.%d", name, attempt+1)
	}
	return nil, fmt.Errorf("create AnalysisRun %s: too many name collisions", name)
}

func (rc *rolloutCtx) buildRun(name string, ra v1alpha1.RolloutAnalysis, typ string, idx *int32) (*v1alpha1.AnalysisRun, error) {
	args, err := rolloutArgs(rc.ro, rc.status.CurrentPodHash, ra.Args)
	if err != nil {
		return nil, err
	}
	spec, err := analysis.BuildRunSpec(rc.c, rc.ro.Namespace, ra.Templates, args)
	if err != nil {
		return nil, err
	}
	spec.DryRun = append(spec.DryRun, ra.DryRun...)
	spec.MeasurementRetention = append(spec.MeasurementRetention, ra.MeasurementRetention...)
	labels := map[string]string{
		v1alpha1.DefaultRolloutUniqueLabelKey: rc.status.CurrentPodHash,
		v1alpha1.RolloutTypeLabel:             typ,
	}
	if idx != nil {
		labels[v1alpha1.RolloutCanaryStepIndexLabel] = strconv.Itoa(int(*idx))
	}
	if rc.c.cfg.InstanceID != "" {
		labels[v1alpha1.LabelKeyControllerInstanceID] = rc.c.cfg.InstanceID
	}
	ann := map[string]string{v1alpha1.RevisionAnnotation: strconv.FormatInt(revisionOf(rc.ro), 10)}
	if md := ra.AnalysisRunMetadata; md != nil {
		for k, v := range md.Labels {
			labels[k] = v
		}
		for k, v := range md.Annotations {
			ann[k] = v
		}
	}
	return &v1alpha1.AnalysisRun{
		TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion().String(), Kind: v1alpha1.AnalysisRunKind},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: rc.ro.Namespace, Labels: labels, Annotations: ann,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rc.ro, v1alpha1.GroupVersionKind(v1alpha1.RolloutKind))},
		},
		Spec: spec,
	}, nil
}

// terminateOthers sets spec.terminate on every unfinished run no longer in use.
func (rc *rolloutCtx) terminateOthers(ctx context.Context, runs []*v1alpha1.AnalysisRun, keep map[string]bool) error {
	for _, run := range runs {
		if keep[run.Name] || run.Spec.Terminate || run.Status.Phase.Completed() {
			continue
		}
		if err := rc.c.api.PatchAnalysisRun(ctx, run.Namespace, run.Name, []byte(`{"spec":{"terminate":true}}`)); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("terminate AnalysisRun %s: %w", run.Name, err)
		}
	}
	return nil
}

// gcRuns deletes the Rollout's runs beyond spec.analysis.successfulRunHistoryLimit and
// unsuccessfulRunHistoryLimit (default 5 each), newest kept, as Argo's
// FilterAnalysisRunsToDelete: runs in use are never touched; a run without a pod-template-hash
// label, or whose ReplicaSet is gone or being deleted, is deleted whatever its phase; Failed,
// Error and Inconclusive runs count as unsuccessful; unfinished runs are kept.
func (rc *rolloutCtx) gcRuns(ctx context.Context, runs []*v1alpha1.AnalysisRun, keep map[string]bool) error {
	okLimit, badLimit := int32(defaultRunHistoryLimit), int32(defaultRunHistoryLimit)
	if a := rc.ro.Spec.Analysis; a != nil {
		if a.SuccessfulRunHistoryLimit != nil {
			okLimit = *a.SuccessfulRunHistoryLimit
		}
		if a.UnsuccessfulRunHistoryLimit != nil {
			badLimit = *a.UnsuccessfulRunHistoryLimit
		}
	}
	for _, run := range runsToDelete(runs, keep, rc.all, okLimit, badLimit) {
		if run.DeletionTimestamp != nil {
			continue
		}
		err := rc.c.api.DeleteAnalysisRun(ctx, run.Namespace, run.Name)
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// runsToDelete picks the runs gcRuns deletes; runs is sorted oldest first.
func runsToDelete(runs []*v1alpha1.AnalysisRun, keep map[string]bool, rss []*appsv1.ReplicaSet, okLimit, badLimit int32) []*v1alpha1.AnalysisRun {
	deleting := map[string]bool{} // pod hash -> ReplicaSet being deleted
	for _, rs := range rss {
		if h, ok := rs.Labels[v1alpha1.DefaultRolloutUniqueLabelKey]; ok {
			deleting[h] = rs.DeletionTimestamp != nil
		}
	}
	var out []*v1alpha1.AnalysisRun
	var okKept, badKept int32
	for i := len(runs) - 1; i >= 0; i-- {
		run := runs[i]
		if keep[run.Name] {
			continue
		}
		h, labelled := run.Labels[v1alpha1.DefaultRolloutUniqueLabelKey]
		if gone, found := deleting[h]; !labelled || !found || gone {
			out = append(out, run)
			continue
		}
		switch p := run.Status.Phase; {
		case p == v1alpha1.AnalysisPhaseSuccessful:
			if okKept < okLimit {
				okKept++
			} else {
				out = append(out, run)
			}
		case p.Completed():
			if badKept < badLimit {
				badKept++
			} else {
				out = append(out, run)
			}
		}
	}
	return out
}

// AnalysisTemplate implements analysis.TemplateGetter from the informer cache.
func (c *Controller) AnalysisTemplate(ns, name string) (*v1alpha1.AnalysisTemplate, error) {
	obj, ok, err := c.templates.GetIndexer().GetByKey(ns + "/" + name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("not found")
	}
	return obj.(*v1alpha1.AnalysisTemplate), nil
}

// ClusterAnalysisTemplate implements analysis.TemplateGetter from the informer cache.
func (c *Controller) ClusterAnalysisTemplate(name string) (*v1alpha1.ClusterAnalysisTemplate, error) {
	obj, ok, err := c.clusterTmpls.GetIndexer().GetByKey(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("not found")
	}
	return obj.(*v1alpha1.ClusterAnalysisTemplate), nil
}
