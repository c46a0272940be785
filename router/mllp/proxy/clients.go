package proxy

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/nerve-rollouts/nerve/kube"
)

// NewEndpointClients returns lean REST clients (package kube) for the EndpointSlices and
// Services the watch reads, instead of client-go's typed clientset, which links every
// built-in API group. Both share one rate limiter and prefer protobuf, as the typed clientset's
// groups do.
func NewEndpointClients(cfg *rest.Config) (slices, services kube.Resource, err error) {
	scheme, err := kube.NewScheme(corev1.AddToScheme, discoveryv1.AddToScheme)
	if err != nil {
		return slices, services, err
	}
	b, err := kube.NewBuilder(cfg, scheme, "")
	if err != nil {
		return slices, services, err
	}
	limiter := b.Limiter()
	core, err := b.REST(schema.GroupVersion{Version: "v1"}, "/api", limiter)
	if err != nil {
		return slices, services, err
	}
	disc, err := b.REST(discoveryv1.SchemeGroupVersion, "/apis", limiter)
	if err != nil {
		return slices, services, err
	}
	return b.Resource(disc, "endpointslices", true, true), b.Resource(core, "services", true, true), nil
}
