package job

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	k8serrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// maxNameLength is the longest Job name whose pods' job-name label still fits (a label value).
const maxNameLength = 63

// JobName is Argo's Job name: <run uid>.<metric>.<count + error + 1>, the metric name shortened
// to keep the whole within 63 characters.
func JobName(run *v1alpha1.AnalysisRun, metric string) string {
	id := 1
	for _, r := range run.Status.MetricResults {
		if r.Name == metric {
			id = int(r.Count + r.Error + 1)
		}
	}
	name := fmt.Sprintf("%s.%s.%d", run.UID, metric, id)
	if over := len(name) - maxNameLength; over > 0 && over < len(metric) {
		name = fmt.Sprintf("%s.%s.%d", run.UID, metric[:len(metric)-over], id)
	}
	return name
}

// newJob builds the measurement's Job: the config's labels and annotations plus Argo's, the
// AnalysisRun as controller owner, the run's uid label on the pod template.
func newJob(run *v1alpha1.AnalysisRun, m v1alpha1.Metric, cfg Config) *batchv1.Job {
	jobLabels := copyMap(cfg.Metadata.Labels)
	jobLabels[AnalysisRunUIDLabelKey] = string(run.UID)
	annotations := copyMap(cfg.Metadata.Annotations)
	annotations[AnalysisRunNameAnnotationKey] = run.Name
	annotations[AnalysisRunNamespaceAnnotationKey] = run.Namespace
	annotations[AnalysisRunMetricAnnotationKey] = m.Name
	spec := *cfg.Spec.DeepCopy()
	podLabels := copyMap(spec.Template.Labels)
	podLabels[AnalysisRunUIDLabelKey] = string(run.UID)
	spec.Template.Labels = podLabels
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:            JobName(run, m.Name),
			Namespace:       run.Namespace,
			Labels:          jobLabels,
			Annotations:     annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(run, v1alpha1.GroupVersion().WithKind("AnalysisRun"))},
		},
		Spec: spec,
	}
}

func copyMap(in map[string]string) map[string]string {
	out := make(map[string]string, len(in)+3)
	for k, v := range in {
		out[k] = v
	}
	return out
}

// create creates the Job; one that already exists and is owned by the same run is adopted.
func (p *Provider) create(ctx context.Context, c *Clients, job *batchv1.Job) (*batchv1.Job, error) {
	created := &batchv1.Job{}
	err := c.Jobs.Create(ctx, job.Namespace, job, created)
	if err == nil {
		return created, nil
	}
	if !k8serrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create job %s/%s: %w", job.Namespace, job.Name, err)
	}
	existing := &batchv1.Job{}
	if gerr := c.Jobs.Get(ctx, job.Namespace, job.Name, existing); gerr != nil {
		return nil, fmt.Errorf("create job %s/%s: %w (and reading the existing one: %v)", job.Namespace, job.Name, err, gerr)
	}
	if existing.DeletionTimestamp != nil {
		return nil, fmt.Errorf("create job %s/%s: %w, and it is being deleted", job.Namespace, job.Name, err)
	}
	uid := job.Labels[AnalysisRunUIDLabelKey]
	if ref := metav1.GetControllerOf(existing); ref == nil || string(ref.UID) != uid {
		return nil, fmt.Errorf("create job %s/%s: %w, and it is not owned by this AnalysisRun (uid %s)", job.Namespace, job.Name, err, uid)
	}
	p.logger.Info("job already created by an earlier call, adopted", "namespace", job.Namespace, "job", job.Name)
	return existing, nil
}

// jobRef reads the Job's namespace and name from the measurement's metadata.
func jobRef(meas v1alpha1.Measurement, run *v1alpha1.AnalysisRun) (string, string, error) {
	name := meas.Metadata[JobNameKey]
	if name == "" {
		return "", "", errors.New("job metadata reference missing")
	}
	ns := meas.Metadata[JobNamespaceKey]
	if ns == "" && run != nil {
		ns = run.Namespace
	}
	if ns == "" {
		return "", "", errors.New("job metadata reference missing (no job-namespace and no AnalysisRun namespace)")
	}
	return ns, name, nil
}

// finished reads the Job's Complete / Failed condition.
func finished(job *batchv1.Job) (v1alpha1.AnalysisPhase, string, bool) {
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return v1alpha1.AnalysisPhaseSuccessful, fmt.Sprintf("job %s/%s completed (succeeded: %d)", job.Namespace, job.Name, job.Status.Succeeded), true
		case batchv1.JobFailed:
			return v1alpha1.AnalysisPhaseFailed, fmt.Sprintf("job %s/%s failed (failed: %d): %s", job.Namespace, job.Name, job.Status.Failed, strings.TrimSpace(c.Reason+" "+c.Message)), true
		}
	}
	return "", "", false
}

// terminalWaiting are the container waiting reasons a Job never recovers from on its own.
func terminalWaiting(reason string) bool {
	switch reason {
	case "ErrImagePull", "ImagePullBackOff", "InvalidImageName":
		return true
	}
	return false
}

// stuckPod reports a pod of the Job whose container can never start (Argo: Inconclusive).
func (p *Provider) stuckPod(ctx context.Context, c *Clients, job *batchv1.Job) (string, bool, error) {
	if job.Spec.Selector == nil {
		return "", false, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil {
		return "", false, fmt.Errorf("job %s/%s: selector: %w", job.Namespace, job.Name, err)
	}
	pods := &corev1.PodList{}
	if err := c.Pods.List(ctx, job.Namespace, metav1.ListOptions{LabelSelector: sel.String()}, pods); err != nil {
		return "", false, fmt.Errorf("job %s/%s: list pods: %w", job.Namespace, job.Name, err)
	}
	for _, pod := range pods.Items {
		statuses := append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
		for _, cs := range statuses {
			if w := cs.State.Waiting; w != nil && terminalWaiting(w.Reason) {
				return fmt.Sprintf("Pod %s, container %s has terminal error (%s): %s", pod.Name, cs.Name, w.Reason, w.Message), true, nil
			}
		}
	}
	return "", false, nil
}

// jobIndex is the measurement number at the end of a Job name (<uid>.<metric>.<n>), 0 if none.
func jobIndex(name string) int {
	n, err := strconv.Atoi(name[strings.LastIndex(name, ".")+1:])
	if err != nil {
		return 0
	}
	return n
}

// deleteJob deletes a Job and its pods (foreground); a Job already gone is fine.
func deleteJob(ctx context.Context, c *Clients, ns, name string) error {
	fg := metav1.DeletePropagationForeground
	err := c.Jobs.Delete(ctx, ns, name, metav1.DeleteOptions{PropagationPolicy: &fg})
	if err != nil && !k8serrors.IsNotFound(err) {
		return fmt.Errorf("delete job %s/%s: %w", ns, name, err)
	}
	return nil
}

// oldJobs lists the run's Jobs of one metric, oldest first, and returns those beyond limit.
func oldJobs(ctx context.Context, c *Clients, run *v1alpha1.AnalysisRun, metric string, limit int) ([]batchv1.Job, error) {
	sel := labels.SelectorFromSet(labels.Set{AnalysisRunUIDLabelKey: string(run.UID)})
	list := &batchv1.JobList{}
	if err := c.Jobs.List(ctx, run.Namespace, metav1.ListOptions{LabelSelector: sel.String()}, list); err != nil {
		return nil, fmt.Errorf("list jobs of analysis run %s/%s: %w", run.Namespace, run.Name, err)
	}
	var mine []batchv1.Job
	for _, j := range list.Items {
		if j.Annotations[AnalysisRunMetricAnnotationKey] == metric && j.DeletionTimestamp == nil {
			mine = append(mine, j)
		}
	}
	sort.SliceStable(mine, func(a, b int) bool {
		ta, tb := mine[a].CreationTimestamp, mine[b].CreationTimestamp
		if !ta.Equal(&tb) {
			return ta.Before(&tb)
		}
		return jobIndex(mine[a].Name) < jobIndex(mine[b].Name)
	})
	if limit < 0 {
		limit = 0
	}
	if len(mine) <= limit {
		return nil, nil
	}
	return mine[:len(mine)-limit], nil
}
