package gatewayapi

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Verification is the outcome of VerifyWeight on all routes.
type Verification struct {
	// Verified is true when every route carries the weights and every parent accepted them.
	Verified bool
	// Reasons says, per route, why not (empty when Verified).
	Reasons []string
}

// Message joins the reasons.
func (v Verification) Message() string {
	if v.Verified {
		return "verified"
	}
	return strings.Join(v.Reasons, "; ")
}

// verifyRoute returns "" when r carries w on every weighted rule and every parent reports
// Accepted=True and ResolvedRefs=True for r's current generation, else the first reason why not.
// A route without weighted rules is an error, not a pending state.
func verifyRoute(r *route, w weightSpec) (string, error) {
	weighted := w.weightedRules(r)
	if len(weighted) == 0 {
		return "", w.missingBackendsError(r)
	}
	for _, i := range weighted {
		if reason := w.verifyRule(r, i); reason != "" {
			return reason, nil
		}
	}
	return verifyParents(r), nil
}

// verifyRule checks one weighted rule's spec.
func (w weightSpec) verifyRule(r *route, i int) string {
	ns := r.meta.Namespace
	present := map[string]bool{}
	for _, b := range r.rules[i].backends {
		act, want := w.want(ns, b)
		switch act {
		case drop:
			return fmt.Sprintf("%s rule %d still has backendRef %q of a finished experiment", r.target, i, b.Name)
		case setWeight:
			present[string(b.Name)] = true
			got := int32(1) // the API's default weight
			if b.Weight != nil {
				got = *b.Weight
			}
			if got != want {
				return fmt.Sprintf("%s rule %d: backendRef %q has weight %d, want %d", r.target, i, b.Name, got, want)
			}
		}
	}
	for _, d := range w.additional {
		if !present[d.ServiceName] {
			return fmt.Sprintf("%s rule %d has no backendRef to additional destination %q", r.target, i, d.ServiceName)
		}
	}
	return ""
}

// verifyParents checks status.parents against metadata.generation.
func verifyParents(r *route) string {
	if len(r.parents) == 0 {
		return fmt.Sprintf("%s: no Gateway has reported status yet (status.parents is empty)", r.target)
	}
	for _, p := range r.parents {
		for _, ct := range []gatewayv1.RouteConditionType{gatewayv1.RouteConditionAccepted, gatewayv1.RouteConditionResolvedRefs} {
			if reason := verifyCondition(r, p, string(ct)); reason != "" {
				return reason
			}
		}
	}
	return ""
}

func verifyCondition(r *route, p gatewayv1.RouteParentStatus, ct string) string {
	parent := parentName(p, r.meta.Namespace)
	c := findCondition(p.Conditions, ct)
	switch {
	case c == nil:
		return fmt.Sprintf("%s: parent %s (controller %s) reports no %s condition", r.target, parent, p.ControllerName, ct)
	case c.ObservedGeneration != r.meta.Generation:
		return fmt.Sprintf("%s: parent %s has not observed generation %d yet (%s is for generation %d)", r.target, parent, r.meta.Generation, ct, c.ObservedGeneration)
	case c.Status != metav1.ConditionTrue:
		return fmt.Sprintf("%s: parent %s reports %s=%s (%s: %s)", r.target, parent, ct, c.Status, c.Reason, c.Message)
	}
	return ""
}

func findCondition(cs []metav1.Condition, t string) *metav1.Condition {
	for i := range cs {
		if cs[i].Type == t {
			return &cs[i]
		}
	}
	return nil
}

// parentName renders a parentRef as namespace/name[/section].
func parentName(p gatewayv1.RouteParentStatus, routeNS string) string {
	ns := routeNS
	if p.ParentRef.Namespace != nil {
		ns = string(*p.ParentRef.Namespace)
	}
	s := ns + "/" + string(p.ParentRef.Name)
	if p.ParentRef.SectionName != nil {
		s += "/" + string(*p.ParentRef.SectionName)
	}
	return s
}
