package kube

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/kube"
)

// Client holds one Resource per kind nerve uses. Built-in kinds share one rate limiter (as
// the typed clientset's groups do) except Leases, which have their own; argoproj.io kinds have
// their own (as a generated clientset for them would); all share one HTTP client.
type Client struct {
	ReplicaSets              Resource
	Pods                     Resource
	Services                 Resource
	Secrets                  Resource
	ConfigMaps               Resource
	Events                   Resource
	Leases                   Resource
	Rollouts                 Resource
	AnalysisRuns             Resource
	AnalysisTemplates        Resource
	ClusterAnalysisTemplates Resource
}

// New builds a Client from cfg. Every create, update and patch carries fieldManager.
func New(cfg *rest.Config, fieldManager string) (*Client, error) {
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	b, err := kube.NewBuilder(cfg, scheme, fieldManager)
	if err != nil {
		return nil, err
	}
	builtin := b.Limiter()
	core, err := b.REST(schema.GroupVersion{Version: "v1"}, "/api", builtin)
	if err != nil {
		return nil, err
	}
	apps, err := b.REST(schema.GroupVersion{Group: "apps", Version: "v1"}, "/apis", builtin)
	if err != nil {
		return nil, err
	}
	// the leader-election Lease has its own rate limiter: a renewal must not queue behind a
	// burst of reconcile writes and miss its renew deadline
	coord, err := b.REST(schema.GroupVersion{Group: "coordination.k8s.io", Version: "v1"}, "/apis", b.Limiter())
	if err != nil {
		return nil, err
	}
	argo, err := b.REST(v1alpha1.GroupVersion(), "/apis", b.Limiter())
	if err != nil {
		return nil, err
	}
	return &Client{
		ReplicaSets:              b.Resource(apps, "replicasets", true, true),
		Pods:                     b.Resource(core, "pods", true, true),
		Services:                 b.Resource(core, "services", true, true),
		Secrets:                  b.Resource(core, "secrets", true, true),
		ConfigMaps:               b.Resource(core, "configmaps", true, true),
		Events:                   b.Resource(core, "events", true, true),
		Leases:                   b.Resource(coord, "leases", true, true),
		Rollouts:                 b.Resource(argo, v1alpha1.RolloutResource, true, false),
		AnalysisRuns:             b.Resource(argo, v1alpha1.AnalysisRunResource, true, false),
		AnalysisTemplates:        b.Resource(argo, v1alpha1.AnalysisTemplateResource, true, false),
		ClusterAnalysisTemplates: b.Resource(argo, v1alpha1.ClusterAnalysisTemplateResource, false, false),
	}, nil
}

// Resource is one kind's REST endpoint (kube.Resource).
type Resource = kube.Resource

// Selectors narrow a list-watch (kube.Selectors).
type Selectors = kube.Selectors

// NewResource returns the Resource name served by rc (tests, and kinds Client does not hold).
func NewResource(rc rest.Interface, params runtime.ParameterCodec, name string, namespaced bool, fieldManager string) Resource {
	return kube.NewResource(rc, params, name, namespaced, fieldManager)
}
