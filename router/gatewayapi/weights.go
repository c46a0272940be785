package gatewayapi

import (
	"fmt"
	"sort"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// weightSpec is what every weighted rule of every route must carry.
type weightSpec struct {
	svcNS   string // the Rollout's namespace, where its Services live
	stable  string
	canary  string
	canaryW int32
	stableW int32
	// additional are the experiments' destinations, by Service name.
	additional []v1alpha1.WeightDestination
	// previous are Services that earlier reconciles added as additional destinations and that are
	// no longer wanted (from status.canary.weights.additional).
	previous map[string]bool
}

// maxTrafficWeight returns the Rollout's total weight.
func maxTrafficWeight(ro *v1alpha1.Rollout) int32 {
	if tr := ro.Spec.Strategy.Canary.TrafficRouting; tr != nil && tr.MaxTrafficWeight != nil && *tr.MaxTrafficWeight > 0 {
		return *tr.MaxTrafficWeight
	}
	return DefaultMaxTrafficWeight
}

// newWeightSpec computes the weights: canary = desired, each additional destination its own
// weight, stable = maxTrafficWeight - desired - sum(additional).
func newWeightSpec(ro *v1alpha1.Rollout, desired int32, additional []v1alpha1.WeightDestination) (weightSpec, error) {
	c := ro.Spec.Strategy.Canary
	max := maxTrafficWeight(ro)
	w := weightSpec{svcNS: ro.Namespace, stable: c.StableService, canary: c.CanaryService, canaryW: desired, previous: map[string]bool{}}
	if desired < 0 || desired > max {
		return w, fmt.Errorf("desired canary weight %d is outside 0..%d (maxTrafficWeight)", desired, max)
	}
	sum := desired
	for _, d := range additional {
		if d.ServiceName == "" || d.ServiceName == w.stable || d.ServiceName == w.canary {
			continue
		}
		if d.Weight < 0 {
			return w, fmt.Errorf("additional destination %s has negative weight %d", d.ServiceName, d.Weight)
		}
		sum += d.Weight
		w.additional = append(w.additional, d)
	}
	if sum > max {
		return w, fmt.Errorf("canary weight %d plus additional destinations exceed maxTrafficWeight %d (total %d)", desired, max, sum)
	}
	w.stableW = max - sum
	sort.Slice(w.additional, func(i, j int) bool { return w.additional[i].ServiceName < w.additional[j].ServiceName })
	if ws := ro.Status.Canary.Weights; ws != nil {
		for _, d := range ws.Additional {
			if d.ServiceName != "" && d.ServiceName != w.stable && d.ServiceName != w.canary && !w.wantsAdditional(d.ServiceName) {
				w.previous[d.ServiceName] = true
			}
		}
	}
	return w, nil
}

func (w weightSpec) wantsAdditional(name string) bool {
	for _, d := range w.additional {
		if d.ServiceName == name {
			return true
		}
	}
	return false
}

// refers reports whether backendRef b (in a route in routeNS) points at Service svc of the
// Rollout's namespace.
func (w weightSpec) refers(routeNS string, b gatewayv1.BackendRef, svc string) bool {
	if b.Group != nil && *b.Group != "" {
		return false
	}
	if b.Kind != nil && *b.Kind != "Service" {
		return false
	}
	return string(b.Name) == svc && backendNamespace(routeNS, b) == w.svcNS
}

func backendNamespace(routeNS string, b gatewayv1.BackendRef) string {
	if b.Namespace != nil && *b.Namespace != "" {
		return string(*b.Namespace)
	}
	return routeNS
}

// backendAction is what to do with one backendRef of a weighted rule.
type backendAction int

const (
	leave backendAction = iota
	setWeight
	drop
)

// want returns the action and weight for backendRef b.
func (w weightSpec) want(routeNS string, b gatewayv1.BackendRef) (backendAction, int32) {
	switch {
	case w.refers(routeNS, b, w.canary):
		return setWeight, w.canaryW
	case w.refers(routeNS, b, w.stable):
		return setWeight, w.stableW
	}
	for _, d := range w.additional {
		if w.refers(routeNS, b, d.ServiceName) {
			return setWeight, d.Weight
		}
	}
	for name := range w.previous {
		if w.refers(routeNS, b, name) {
			return drop, 0
		}
	}
	return leave, 0
}

// isWeighted reports whether a rule references both the stable and the canary Service: only
// those rules are weighted. Rules that reference only one of them (e.g. a user's fixed route to
// the canary) are never touched.
func (w weightSpec) isWeighted(routeNS string, rule ruleView) bool {
	var s, c bool
	for _, b := range rule.backends {
		s = s || w.refers(routeNS, b, w.stable)
		c = c || w.refers(routeNS, b, w.canary)
	}
	return s && c
}

// weightedRules returns the indexes of the weighted rules of r.
func (w weightSpec) weightedRules(r *route) []int {
	var out []int
	for i, rule := range r.rules {
		if w.isWeighted(r.meta.Namespace, rule) {
			out = append(out, i)
		}
	}
	return out
}

// portFunc returns the port for a new backendRef to an additional destination Service.
type portFunc func(svc string) (*gatewayv1.PortNumber, error)

// planWeights returns the operations that put w on every weighted rule of r.
func (w weightSpec) planWeights(r *route, port portFunc) ([]patchOp, error) {
	weighted := w.weightedRules(r)
	if len(weighted) == 0 {
		return nil, w.missingBackendsError(r)
	}
	var ops []patchOp
	for _, i := range weighted {
		ruleOps, err := w.planRule(r, i, port)
		if err != nil {
			return nil, err
		}
		ops = append(ops, ruleOps...)
	}
	return ops, nil
}

// planRule sets weights by index, then removes stale additional destinations (highest index
// first, so earlier indexes stay valid), then appends missing additional destinations.
func (w weightSpec) planRule(r *route, i int, port portFunc) ([]patchOp, error) {
	ns := r.meta.Namespace
	var ops []patchOp
	var removes []int
	present := map[string]bool{}
	for j, b := range r.rules[i].backends {
		act, weight := w.want(ns, b)
		switch act {
		case drop:
			removes = append(removes, j)
		case setWeight:
			present[string(b.Name)] = true
			if b.Weight == nil || *b.Weight != weight {
				ops = append(ops, nameTest(i, j, b), patchOp{Op: "add", Path: backendPath(i, j) + "/weight", Value: weight})
			}
		}
	}
	for k := len(removes) - 1; k >= 0; k-- {
		j := removes[k]
		ops = append(ops, nameTest(i, j, r.rules[i].backends[j]), patchOp{Op: "remove", Path: backendPath(i, j)})
	}
	for _, d := range w.additional {
		if present[d.ServiceName] {
			continue
		}
		ref, err := w.additionalRef(ns, d, port)
		if err != nil {
			return nil, err
		}
		ops = append(ops, patchOp{Op: "add", Path: rulePath(i) + "/backendRefs/-", Value: ref})
	}
	return ops, nil
}

// nameTest guards an operation on backendRef j of rule i: it must still name the same backend.
func nameTest(i, j int, b gatewayv1.BackendRef) patchOp {
	return patchOp{Op: "test", Path: backendPath(i, j) + "/name", Value: string(b.Name)}
}

// additionalRef builds the backendRef of an experiment's destination.
func (w weightSpec) additionalRef(routeNS string, d v1alpha1.WeightDestination, port portFunc) (gatewayv1.BackendRef, error) {
	p, err := port(d.ServiceName)
	if err != nil {
		return gatewayv1.BackendRef{}, err
	}
	weight := d.Weight
	ref := gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(d.ServiceName), Port: p}, Weight: &weight}
	if routeNS != w.svcNS {
		ns := gatewayv1.Namespace(w.svcNS)
		ref.Namespace = &ns
	}
	return ref, nil
}

// missingBackendsError explains why r has no weighted rule.
func (w weightSpec) missingBackendsError(r *route) error {
	ns := r.meta.Namespace
	var hasStable, hasCanary bool
	var wrong []string
	for _, rule := range r.rules {
		for _, b := range rule.backends {
			hasStable = hasStable || w.refers(ns, b, w.stable)
			hasCanary = hasCanary || w.refers(ns, b, w.canary)
			if (string(b.Name) == w.stable || string(b.Name) == w.canary) && !w.refers(ns, b, string(b.Name)) {
				wrong = append(wrong, fmt.Sprintf("%q (namespace %q, kind %s)", b.Name, backendNamespace(ns, b), backendKind(b)))
			}
		}
	}
	switch {
	case len(wrong) > 0 && !(hasStable && hasCanary):
		return fmt.Errorf("%s: backendRefs %s do not point at the Rollout's Services in namespace %q (wrong namespace: set backendRefs[].namespace to %q and allow it with a ReferenceGrant, or set the plugin config's \"namespace\")",
			r.target, strings.Join(wrong, ", "), w.svcNS, w.svcNS)
	case !hasStable && !hasCanary:
		return fmt.Errorf("%s has no backendRef to the stable Service %q nor to the canary Service %q (namespace %q)", r.target, w.stable, w.canary, w.svcNS)
	case !hasStable:
		return fmt.Errorf("%s has no backendRef to the stable Service %q (namespace %q); a weighted rule needs backendRefs to both the stable and the canary Service", r.target, w.stable, w.svcNS)
	case !hasCanary:
		return fmt.Errorf("%s has no backendRef to the canary Service %q (namespace %q); a weighted rule needs backendRefs to both the stable and the canary Service", r.target, w.canary, w.svcNS)
	default:
		return fmt.Errorf("%s references the stable Service %q and the canary Service %q only in different rules; put both backendRefs in the same rule so the weight can be split", r.target, w.stable, w.canary)
	}
}

func backendKind(b gatewayv1.BackendRef) string {
	k := "Service"
	if b.Kind != nil {
		k = string(*b.Kind)
	}
	if b.Group != nil && *b.Group != "" {
		k += "." + string(*b.Group)
	}
	return k
}
