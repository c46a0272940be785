package gatewayapi

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/nerve-rollouts/nerve/kube"
)

// Clients are the API clients the router uses: one per route kind (gateway.networking.k8s.io/v1)
// and core/v1 Services.
type Clients struct {
	HTTPRoutes kube.API
	GRPCRoutes kube.API
	TCPRoutes  kube.API
	TLSRoutes  kube.API
	Services   kube.API
}

// ResourceFunc returns the API of one kind (gvr, whose objects are of kind).
type ResourceFunc func(gvr schema.GroupVersionResource, kind string) kube.API

// ClientsFrom returns the Clients whose APIs res makes (the lean REST clients of NewClients, or
// a test's fakes).
func ClientsFrom(res ResourceFunc) *Clients {
	route := func(resource, kind string) kube.API {
		return res(gatewayv1.SchemeGroupVersion.WithResource(resource), kind)
	}
	return &Clients{
		HTTPRoutes: route("httproutes", "HTTPRoute"),
		GRPCRoutes: route("grpcroutes", "GRPCRoute"),
		TCPRoutes:  route("tcproutes", "TCPRoute"),
		TLSRoutes:  route("tlsroutes", "TLSRoute"),
		Services:   res(corev1.SchemeGroupVersion.WithResource("services"), "Service"),
	}
}

// NewClients returns Clients over the API server of cfg: the requests gateway-api's generated
// clientset (JSON) and client-go's typed clientset (protobuf for Services) make, each with its
// own rate limiter as the two clientsets had, without linking either clientset.
func NewClients(cfg *rest.Config) (*Clients, error) {
	scheme, err := kube.NewScheme(gatewayv1.AddToScheme, corev1.AddToScheme)
	if err != nil {
		return nil, err
	}
	b, err := kube.NewBuilder(cfg, scheme, fieldManager)
	if err != nil {
		return nil, err
	}
	gw, err := b.REST(gatewayv1.SchemeGroupVersion, "/apis", b.Limiter())
	if err != nil {
		return nil, err
	}
	core, err := b.REST(corev1.SchemeGroupVersion, "/api", b.Limiter())
	if err != nil {
		return nil, err
	}
	return ClientsFrom(func(gvr schema.GroupVersionResource, _ string) kube.API {
		if gvr.Group == "" {
			return b.Resource(core, gvr.Resource, true, true)
		}
		return b.Resource(gw, gvr.Resource, true, false)
	}), nil
}

// routes is the API of the route kind.
func (c *Clients) routes(kind Kind) (kube.API, error) {
	switch kind {
	case KindHTTPRoute:
		return c.HTTPRoutes, nil
	case KindGRPCRoute:
		return c.GRPCRoutes, nil
	case KindTCPRoute:
		return c.TCPRoutes, nil
	case KindTLSRoute:
		return c.TLSRoutes, nil
	}
	return nil, fmt.Errorf("unknown route kind %q", kind)
}
