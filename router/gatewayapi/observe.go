package gatewayapi

import (
	"context"
	"fmt"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Roles of a backendRef in a RouteWeights.
const (
	RoleStable = "stable"
	RoleCanary = "canary"
)

// RouteWeights is what one route of a configuration carries now: per rule, each backendRef and
// its weight. It is the read-only counterpart of SetWeight.
type RouteWeights struct {
	Kind      Kind
	Namespace string
	Name      string
	Rules     []RuleWeights
	// Err says why the route could not be read; Rules is then empty.
	Err error
}

// RuleWeights is one rule of a route.
type RuleWeights struct {
	// Name is the rule's name ("" when unnamed).
	Name     string
	Backends []BackendWeight
}

// BackendWeight is one backendRef of a rule.
type BackendWeight struct {
	// Name and Namespace name the backend (Namespace defaults to the route's).
	Name      string
	Namespace string
	// Weight is the backendRef's weight, Gateway API's default 1 when unset.
	Weight int32
	// Role is RoleStable or RoleCanary when the backendRef points at the Rollout's stable or
	// canary Service (as the router matches them: a core Service of the Rollout's namespace),
	// else "".
	Role string
}

// Observe reads the routes cfg names for ro, plus those its selectors match, and returns their
// backendRef weights in the order the router reconciles them. Routes live in cfg.Namespace, or
// the Rollout's namespace when it is empty. It only reads. A route that cannot be read is
// returned with Err set; the error is the discovery's (a bad selector or a failed list).
func Observe(ctx context.Context, gw *Clients, ro *v1alpha1.Rollout, cfg *Config) ([]RouteWeights, error) {
	c := *cfg
	if c.Namespace == "" {
		c.Namespace = ro.Namespace
	}
	targets, err := discover(ctx, gw, &c)
	if err != nil {
		return nil, err
	}
	w := roleSpec(ro)
	out := make([]RouteWeights, 0, len(targets))
	for _, t := range targets {
		out = append(out, observeRoute(ctx, gw, w, t))
	}
	return out, nil
}

// roleSpec is the part of a weightSpec that tells the stable and canary backends apart.
func roleSpec(ro *v1alpha1.Rollout) weightSpec {
	w := weightSpec{svcNS: ro.Namespace}
	if c := ro.Spec.Strategy.Canary; c != nil {
		w.stable, w.canary = c.StableService, c.CanaryService
	}
	return w
}

func observeRoute(ctx context.Context, gw *Clients, w weightSpec, t target) RouteWeights {
	out := RouteWeights{Kind: t.Kind, Namespace: t.Namespace, Name: t.Name}
	r, err := readRoute(ctx, gw, t)
	if err != nil {
		out.Err = fmt.Errorf("%s %s/%s: %w", t.Kind.Resource(), t.Namespace, t.Name, err)
		return out
	}
	for _, rule := range r.rules {
		rw := RuleWeights{Name: rule.name}
		for _, b := range rule.backends {
			rw.Backends = append(rw.Backends, BackendWeight{Name: string(b.Name), Namespace: backendNamespace(r.meta.Namespace, b),
				Weight: weightOf(b), Role: w.role(r.meta.Namespace, b)})
		}
		out.Rules = append(out.Rules, rw)
	}
	return out
}

// weightOf is a backendRef's weight, 1 when unset (the Gateway API default).
func weightOf(b gatewayv1.BackendRef) int32 {
	if b.Weight == nil {
		return 1
	}
	return *b.Weight
}

// role names what backendRef b of a route in routeNS is to the Rollout.
func (w weightSpec) role(routeNS string, b gatewayv1.BackendRef) string {
	switch {
	case w.canary != "" && w.refers(routeNS, b, w.canary):
		return RoleCanary
	case w.stable != "" && w.refers(routeNS, b, w.stable):
		return RoleStable
	}
	return ""
}
