package gatewayapi

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// route is the kind-independent view of a route that weights and verification work on. The
// typed object is kept for the kinds that take managed rules.
type route struct {
	target  target
	meta    metav1.ObjectMeta
	rules   []ruleView
	parents []gatewayv1.RouteParentStatus
	http    *gatewayv1.HTTPRoute
	grpc    *gatewayv1.GRPCRoute
}

// ruleView is one rule: its name ("" when unnamed) and its backendRefs (for HTTP and GRPC the
// embedded BackendRef of each HTTPBackendRef/GRPCBackendRef).
type ruleView struct {
	name     string
	backends []gatewayv1.BackendRef
}

func ruleName(n *gatewayv1.SectionName) string {
	if n == nil {
		return ""
	}
	return string(*n)
}

// getRoute reads the route t names; its errors say what to fix.
func getRoute(ctx context.Context, gw *Clients, t target) (*route, error) {
	r, err := readRoute(ctx, gw, t)
	if err != nil {
		return nil, describeAPIError(err, "get", t)
	}
	return r, nil
}

// readRoute reads the route t names; its errors are the API's.
func readRoute(ctx context.Context, gw *Clients, t target) (*route, error) {
	api, err := gw.routes(t.Kind)
	if err != nil {
		return nil, err
	}
	var r *route
	switch t.Kind {
	case KindHTTPRoute:
		o := &gatewayv1.HTTPRoute{}
		if err = api.Get(ctx, t.Namespace, t.Name, o); err == nil {
			r = httpView(o)
		}
	case KindGRPCRoute:
		o := &gatewayv1.GRPCRoute{}
		if err = api.Get(ctx, t.Namespace, t.Name, o); err == nil {
			r = grpcView(o)
		}
	case KindTCPRoute:
		o := &gatewayv1.TCPRoute{}
		if err = api.Get(ctx, t.Namespace, t.Name, o); err == nil {
			r = tcpView(o)
		}
	case KindTLSRoute:
		o := &gatewayv1.TLSRoute{}
		if err = api.Get(ctx, t.Namespace, t.Name, o); err == nil {
			r = tlsView(o)
		}
	}
	if err != nil {
		return nil, err
	}
	r.target = t
	return r, nil
}

// patchRoute sends a JSON patch to the route t names.
func patchRoute(ctx context.Context, gw *Clients, t target, patch []byte) error {
	api, err := gw.routes(t.Kind)
	if err != nil {
		return err
	}
	return api.Patch(ctx, t.Namespace, t.Name, types.JSONPatchType, patch, nil)
}

// listRouteNames lists the names of the routes of kind in ns that match selector.
func listRouteNames(ctx context.Context, gw *Clients, kind Kind, ns, selector string) ([]string, error) {
	api, err := gw.routes(kind)
	if err != nil {
		return nil, err
	}
	opts := metav1.ListOptions{LabelSelector: selector}
	switch kind {
	case KindHTTPRoute:
		l := &gatewayv1.HTTPRouteList{}
		if err := api.List(ctx, ns, opts, l); err != nil {
			return nil, err
		}
		return namesOf(l.Items), nil
	case KindGRPCRoute:
		l := &gatewayv1.GRPCRouteList{}
		if err := api.List(ctx, ns, opts, l); err != nil {
			return nil, err
		}
		return namesOf(l.Items), nil
	case KindTCPRoute:
		l := &gatewayv1.TCPRouteList{}
		if err := api.List(ctx, ns, opts, l); err != nil {
			return nil, err
		}
		return namesOf(l.Items), nil
	default:
		l := &gatewayv1.TLSRouteList{}
		if err := api.List(ctx, ns, opts, l); err != nil {
			return nil, err
		}
		return namesOf(l.Items), nil
	}
}

func httpView(o *gatewayv1.HTTPRoute) *route {
	r := &route{meta: o.ObjectMeta, parents: o.Status.Parents, http: o}
	for _, rule := range o.Spec.Rules {
		v := ruleView{name: ruleName(rule.Name)}
		for _, b := range rule.BackendRefs {
			v.backends = append(v.backends, b.BackendRef)
		}
		r.rules = append(r.rules, v)
	}
	return r
}

func grpcView(o *gatewayv1.GRPCRoute) *route {
	r := &route{meta: o.ObjectMeta, parents: o.Status.Parents, grpc: o}
	for _, rule := range o.Spec.Rules {
		v := ruleView{name: ruleName(rule.Name)}
		for _, b := range rule.BackendRefs {
			v.backends = append(v.backends, b.BackendRef)
		}
		r.rules = append(r.rules, v)
	}
	return r
}

func tcpView(o *gatewayv1.TCPRoute) *route {
	r := &route{meta: o.ObjectMeta, parents: o.Status.Parents}
	for _, rule := range o.Spec.Rules {
		r.rules = append(r.rules, ruleView{name: ruleName(rule.Name), backends: rule.BackendRefs})
	}
	return r
}

func tlsView(o *gatewayv1.TLSRoute) *route {
	r := &route{meta: o.ObjectMeta, parents: o.Status.Parents}
	for _, rule := range o.Spec.Rules {
		r.rules = append(r.rules, ruleView{name: ruleName(rule.Name), backends: rule.BackendRefs})
	}
	return r
}

// namesOf returns the names of listed route objects.
func namesOf[T any, PT interface {
	*T
	GetName() string
}](items []T) []string {
	names := make([]string, 0, len(items))
	for i := range items {
		names = append(names, PT(&items[i]).GetName())
	}
	return names
}
