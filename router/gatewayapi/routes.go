package gatewayapi

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
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
func getRoute(ctx context.Context, gw gwclient.Interface, t target) (*route, error) {
	r, err := readRoute(ctx, gw, t)
	if err != nil {
		return nil, describeAPIError(err, "get", t)
	}
	return r, nil
}

// readRoute reads the route t names; its errors are the API's.
func readRoute(ctx context.Context, gw gwclient.Interface, t target) (*route, error) {
	var (
		r   *route
		err error
	)
	api := gw.GatewayV1()
	switch t.Kind {
	case KindHTTPRoute:
		var o *gatewayv1.HTTPRoute
		if o, err = api.HTTPRoutes(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{}); err == nil {
			r = httpView(o)
		}
	case KindGRPCRoute:
		var o *gatewayv1.GRPCRoute
		if o, err = api.GRPCRoutes(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{}); err == nil {
			r = grpcView(o)
		}
	case KindTCPRoute:
		var o *gatewayv1.TCPRoute
		if o, err = api.TCPRoutes(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{}); err == nil {
			r = tcpView(o)
		}
	case KindTLSRoute:
		var o *gatewayv1.TLSRoute
		if o, err = api.TLSRoutes(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{}); err == nil {
			r = tlsView(o)
		}
	default:
		return nil, fmt.Errorf("unknown route kind %q", t.Kind)
	}
	if err != nil {
		return nil, err
	}
	r.target = t
	return r, nil
}

// patchRoute sends a JSON patch to the route t names.
func patchRoute(ctx context.Context, gw gwclient.Interface, t target, patch []byte) error {
	var err error
	api := gw.GatewayV1()
	opts := metav1.PatchOptions{FieldManager: fieldManager}
	switch t.Kind {
	case KindHTTPRoute:
		_, err = api.HTTPRoutes(t.Namespace).Patch(ctx, t.Name, types.JSONPatchType, patch, opts)
	case KindGRPCRoute:
		_, err = api.GRPCRoutes(t.Namespace).Patch(ctx, t.Name, types.JSONPatchType, patch, opts)
	case KindTCPRoute:
		_, err = api.TCPRoutes(t.Namespace).Patch(ctx, t.Name, types.JSONPatchType, patch, opts)
	case KindTLSRoute:
		_, err = api.TLSRoutes(t.Namespace).Patch(ctx, t.Name, types.JSONPatchType, patch, opts)
	default:
		return fmt.Errorf("unknown route kind %q", t.Kind)
	}
	return err
}

// listRouteNames lists the names of the routes of kind in ns that match selector.
func listRouteNames(ctx context.Context, gw gwclient.Interface, kind Kind, ns, selector string) ([]string, error) {
	api := gw.GatewayV1()
	opts := metav1.ListOptions{LabelSelector: selector}
	var names []string
	switch kind {
	case KindHTTPRoute:
		l, err := api.HTTPRoutes(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		names = namesOf(l.Items)
	case KindGRPCRoute:
		l, err := api.GRPCRoutes(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		names = namesOf(l.Items)
	case KindTCPRoute:
		l, err := api.TCPRoutes(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		names = namesOf(l.Items)
	case KindTLSRoute:
		l, err := api.TLSRoutes(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		names = namesOf(l.Items)
	default:
		return nil, fmt.Errorf("unknown route kind %q", kind)
	}
	return names, nil
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
