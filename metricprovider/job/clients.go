package job

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"

	"github.com/nerve-rollouts/nerve/kube"
)

// Clients are the provider's API clients: batch/v1 Jobs and core/v1 pods.
type Clients struct {
	Jobs kube.API
	Pods kube.API
}

// NewClients returns lean Clients over cfg's API server, making the typed clientset's requests
// (protobuf first, one rate limiter for both groups) without linking it.
func NewClients(cfg *rest.Config) (*Clients, error) {
	scheme, err := kube.NewScheme(batchv1.AddToScheme, corev1.AddToScheme)
	if err != nil {
		return nil, err
	}
	b, err := kube.NewBuilder(cfg, scheme, "")
	if err != nil {
		return nil, err
	}
	limiter := b.Limiter()
	batch, err := b.REST(batchv1.SchemeGroupVersion, "/apis", limiter)
	if err != nil {
		return nil, err
	}
	core, err := b.REST(corev1.SchemeGroupVersion, "/api", limiter)
	if err != nil {
		return nil, err
	}
	return &Clients{Jobs: b.Resource(batch, "jobs", true, true), Pods: b.Resource(core, "pods", true, true)}, nil
}
