package rollout

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/kube"
)

// ClientAPI is the API over the real API server, through nerve's lean client layer (package
// kube: REST clients for the few kinds the loop uses, not client-go's typed clientset).
type ClientAPI struct {
	C *kube.Client
}

// PatchRolloutStatus implements API: a merge patch of the status subresource.
func (a ClientAPI) PatchRolloutStatus(ctx context.Context, ns, name string, patch []byte) (*v1alpha1.Rollout, error) {
	out := &v1alpha1.Rollout{}
	return out, a.C.Rollouts.PatchSubresource(ctx, ns, name, "status", types.MergePatchType, patch, out)
}

// PatchRollout implements API (a merge patch).
func (a ClientAPI) PatchRollout(ctx context.Context, ns, name string, patch []byte) (*v1alpha1.Rollout, error) {
	out := &v1alpha1.Rollout{}
	return out, a.C.Rollouts.Patch(ctx, ns, name, types.MergePatchType, patch, out)
}

// CreateReplicaSet implements API.
func (a ClientAPI) CreateReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	out := &appsv1.ReplicaSet{}
	return out, a.C.ReplicaSets.Create(ctx, rs.Namespace, rs, out)
}

// GetReplicaSet implements API.
func (a ClientAPI) GetReplicaSet(ctx context.Context, ns, name string) (*appsv1.ReplicaSet, error) {
	out := &appsv1.ReplicaSet{}
	return out, a.C.ReplicaSets.Get(ctx, ns, name, out)
}

// UpdateReplicaSet implements API.
func (a ClientAPI) UpdateReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	out := &appsv1.ReplicaSet{}
	return out, a.C.ReplicaSets.Update(ctx, rs.Namespace, rs.Name, "", rs, out)
}

// DeleteReplicaSet implements API.
func (a ClientAPI) DeleteReplicaSet(ctx context.Context, ns, name string) error {
	return a.C.ReplicaSets.Delete(ctx, ns, name, metav1.DeleteOptions{})
}

// PatchService implements API (a merge patch).
func (a ClientAPI) PatchService(ctx context.Context, ns, name string, patch []byte) error {
	return a.C.Services.Patch(ctx, ns, name, types.MergePatchType, patch, &corev1.Service{})
}

// ListPods implements API.
func (a ClientAPI) ListPods(ctx context.Context, ns, labelSelector string) (*corev1.PodList, error) {
	out := &corev1.PodList{}
	return out, a.C.Pods.List(ctx, ns, metav1.ListOptions{LabelSelector: labelSelector}, out)
}

// EvictPod implements API: a policy/v1 Eviction, which the API server refuses with 429 Too
// Many Requests while a PodDisruptionBudget forbids it.
func (a ClientAPI) EvictPod(ctx context.Context, ns, name string) error {
	return a.C.Pods.CreateSubresource(ctx, ns, name, "eviction",
		&policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})
}

// PatchPod implements API (a merge patch).
func (a ClientAPI) PatchPod(ctx context.Context, ns, name string, patch []byte) error {
	return a.C.Pods.Patch(ctx, ns, name, types.MergePatchType, patch, &corev1.Pod{})
}

// GetSecret implements API.
func (a ClientAPI) GetSecret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	out := &corev1.Secret{}
	return out, a.C.Secrets.Get(ctx, ns, name, out)
}

// CreateAnalysisRun implements API.
func (a ClientAPI) CreateAnalysisRun(ctx context.Context, run *v1alpha1.AnalysisRun) (*v1alpha1.AnalysisRun, error) {
	out := &v1alpha1.AnalysisRun{}
	return out, a.C.AnalysisRuns.Create(ctx, run.Namespace, run, out)
}

// GetAnalysisRun implements API.
func (a ClientAPI) GetAnalysisRun(ctx context.Context, ns, name string) (*v1alpha1.AnalysisRun, error) {
	out := &v1alpha1.AnalysisRun{}
	return out, a.C.AnalysisRuns.Get(ctx, ns, name, out)
}

// PatchAnalysisRun implements API (a merge patch of spec.terminate).
func (a ClientAPI) PatchAnalysisRun(ctx context.Context, ns, name string, patch []byte) error {
	return a.C.AnalysisRuns.Patch(ctx, ns, name, types.MergePatchType, patch, nil)
}

// UpdateAnalysisRunStatus implements API. Argo's AnalysisRun CRD has no status subresource
// (Argo's controller writes run status through the object itself), so nerve's CRD has none
// either and the status travels in an update of the whole run: that way a cluster whose
// AnalysisRuns are run by Argo's controller works with nerve's CRDs, and the reverse.
func (a ClientAPI) UpdateAnalysisRunStatus(ctx context.Context, run *v1alpha1.AnalysisRun) (*v1alpha1.AnalysisRun, error) {
	out := &v1alpha1.AnalysisRun{}
	return out, a.C.AnalysisRuns.Update(ctx, run.Namespace, run.Name, "", run, out)
}

// DeleteAnalysisRun implements API.
func (a ClientAPI) DeleteAnalysisRun(ctx context.Context, ns, name string) error {
	return a.C.AnalysisRuns.Delete(ctx, ns, name, metav1.DeleteOptions{})
}
