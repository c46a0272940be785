package rollout

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// API is every call a sync makes to the API server beside the informers: the writes, and the
// few live reads that back them (an object after AlreadyExists, the pods of a restart, a Secret
// for an analysis argument). Every write carries FieldManager. The real implementation is
// ClientAPI (client.go) over package kube; tests use an in-memory fake that feeds each write back
// to the listers, so a sync can run without an API server.
type API interface {
	// PatchRolloutStatus applies a merge patch to the Rollout's status subresource (only the
	// fields nerve owns, with metadata.resourceVersion as the precondition: statusPatch).
	PatchRolloutStatus(ctx context.Context, ns, name string, patch []byte) (*v1alpha1.Rollout, error)
	// PatchRollout applies a merge patch to a Rollout (metadata annotations) and returns the result.
	PatchRollout(ctx context.Context, ns, name string, patch []byte) (*v1alpha1.Rollout, error)

	// CreateReplicaSet creates a ReplicaSet.
	CreateReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error)
	// GetReplicaSet reads a ReplicaSet from the API server (not the cache).
	GetReplicaSet(ctx context.Context, ns, name string) (*appsv1.ReplicaSet, error)
	// UpdateReplicaSet updates a ReplicaSet (replicas, annotations).
	UpdateReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error)
	// DeleteReplicaSet deletes a ReplicaSet.
	DeleteReplicaSet(ctx context.Context, ns, name string) error

	// PatchService applies a merge patch to a Service (selector, annotations).
	PatchService(ctx context.Context, ns, name string, patch []byte) error
	// ListPods lists the pods matching labelSelector, live.
	ListPods(ctx context.Context, ns, labelSelector string) (*corev1.PodList, error)
	// EvictPod evicts a pod through the Eviction API (PodDisruptionBudgets apply: a 429 means
	// not now).
	EvictPod(ctx context.Context, ns, name string) error
	// PatchPod applies a merge patch to a pod (ephemeral labels and annotations).
	PatchPod(ctx context.Context, ns, name string, patch []byte) error
	// GetSecret reads a Secret.
	GetSecret(ctx context.Context, ns, name string) (*corev1.Secret, error)

	// CreateAnalysisRun creates a run.
	CreateAnalysisRun(ctx context.Context, run *v1alpha1.AnalysisRun) (*v1alpha1.AnalysisRun, error)
	// GetAnalysisRun reads a run from the API server (not the cache).
	GetAnalysisRun(ctx context.Context, ns, name string) (*v1alpha1.AnalysisRun, error)
	// PatchAnalysisRun applies a merge patch to a run (spec.terminate).
	PatchAnalysisRun(ctx context.Context, ns, name string, patch []byte) error
	// UpdateAnalysisRunStatus writes a run's status (through the whole object: see ClientAPI).
	UpdateAnalysisRunStatus(ctx context.Context, run *v1alpha1.AnalysisRun) (*v1alpha1.AnalysisRun, error)
	// DeleteAnalysisRun deletes a run.
	DeleteAnalysisRun(ctx context.Context, ns, name string) error
}
