package mllp

import (
	"context"
	"fmt"
	"regexp"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

// SetHeaderRoute maps a setHeaderRoute step onto the route's match rules named hr.Name.
func (r *Router) SetHeaderRoute(ctx context.Context, ro *v1alpha1.Rollout, hr *v1alpha1.SetHeaderRoute) error {
	t, d, err := r.setup(ro)
	if err != nil {
		return err
	}
	if hr == nil || hr.Name == "" {
		return fmt.Errorf("SetHeaderRoute: setHeaderRoute.name is required")
	}
	if err := t.checkManaged(hr.Name); err != nil {
		return fmt.Errorf("SetHeaderRoute: %w", err)
	}
	rules, err := t.matchRules(hr)
	if err != nil {
		return fmt.Errorf("SetHeaderRoute %s: %w", hr.Name, err)
	}
	wrote, err := mutate(ctx, d, t, func(route *api.MLLPRoute) (bool, error) {
		return replaceRules(route, hr.Name, rules), nil
	})
	if err != nil {
		return fmt.Errorf("SetHeaderRoute %s: %w", hr.Name, err)
	}
	if wrote {
		r.log.Info("header route set", "route", t.key(), "managedRoute", hr.Name, "rules", len(rules))
	}
	return nil
}

// checkManaged refuses a route name the Rollout does not list in managedRoutes (when it lists any).
func (t target) checkManaged(name string) error {
	if len(t.managed) == 0 {
		return nil
	}
	for _, m := range t.managed {
		if m == name {
			return nil
		}
	}
	return fmt.Errorf("route name %q is not listed in spec.strategy.canary.trafficRouting.managedRoutes %v", name, t.managed)
}

// matchRules translates the header matches (nil/empty: no rules, i.e. remove).
func (t target) matchRules(hr *v1alpha1.SetHeaderRoute) ([]api.Match, error) {
	if len(hr.Match) == 0 {
		return nil, nil
	}
	if len(hr.Match) > 1 {
		return nil, fmt.Errorf("%d header matches: Argo ANDs them but MLLP match rules are ORed; use one match per managed route", len(hr.Match))
	}
	m := hr.Match[0]
	field, ok := t.headerField(m.HeaderName)
	if !ok {
		return nil, fmt.Errorf("match[0].headerName %q is not an HL7 field: use MSH-4 (sending-facility) or MSH-9 (message-type), or map it in the plugin config field headers", m.HeaderName)
	}
	if m.HeaderValue == nil {
		return nil, fmt.Errorf("match[0].headerValue is required")
	}
	rule := api.Match{Name: hr.Name, Field: field, Exact: m.HeaderValue.Exact, Prefix: m.HeaderValue.Prefix, Regex: m.HeaderValue.Regex}
	n := 0
	for _, v := range []string{rule.Exact, rule.Prefix, rule.Regex} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("match[0].headerValue needs exactly one of exact, prefix, regex")
	}
	if rule.Regex != "" {
		if _, err := regexp.Compile(rule.Regex); err != nil {
			return nil, fmt.Errorf("match[0].headerValue.regex: %w", err)
		}
	}
	return []api.Match{rule}, nil
}

// replaceRules swaps the rules named name for rules; it reports a change.
func replaceRules(route *api.MLLPRoute, name string, rules []api.Match) bool {
	var kept, old []api.Match
	for _, m := range route.Spec.Matches {
		if m.Name == name {
			old = append(old, m)
		} else {
			kept = append(kept, m)
		}
	}
	if equalRules(old, rules) {
		return false
	}
	route.Spec.Matches = append(kept, rules...)
	return true
}

func equalRules(a, b []api.Match) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// SetMirrorRoute mirrors a share of messages to the shadow Service (nil match: remove).
func (r *Router) SetMirrorRoute(ctx context.Context, ro *v1alpha1.Rollout, mr *v1alpha1.SetMirrorRoute) error {
	t, d, err := r.setup(ro)
	if err != nil {
		return err
	}
	if mr == nil || mr.Name == "" {
		return fmt.Errorf("SetMirrorRoute: setMirrorRoute.name is required")
	}
	if err := t.checkManaged(mr.Name); err != nil {
		return fmt.Errorf("SetMirrorRoute: %w", err)
	}
	var mirror *api.Mirror
	if mr.Match != nil {
		if mirror, err = r.mirrorFor(ctx, d, t, mr); err != nil {
			return err
		}
	}
	wrote, err := mutate(ctx, d, t, func(route *api.MLLPRoute) (bool, error) {
		if equalMirror(route.Spec.Mirror, mirror) {
			return false, nil
		}
		route.Spec.Mirror = mirror
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("SetMirrorRoute %s: %w", mr.Name, err)
	}
	if wrote {
		r.log.Info("mirror route set", "route", t.key(), "managedRoute", mr.Name, "on", mirror != nil)
	}
	return nil
}

// mirrorFor builds the mirror after checking that its target is flagged shadow.
func (r *Router) mirrorFor(ctx context.Context, d dynamic.Interface, t target, mr *v1alpha1.SetMirrorRoute) (*api.Mirror, error) {
	pct := int32(100)
	if mr.Percentage != nil {
		pct = *mr.Percentage
	}
	if pct < 0 || pct > 100 {
		return nil, fmt.Errorf("SetMirrorRoute %s: percentage %d outside 0..100", mr.Name, pct)
	}
	svc := t.mirrorTarget()
	if svc == "" {
		return nil, fmt.Errorf("SetMirrorRoute %s: no mirror target: set the plugin config field mirrorService or the Rollout's canaryService", mr.Name)
	}
	if err := checkShadow(ctx, d, t, svc); err != nil {
		return nil, fmt.Errorf("SetMirrorRoute %s: %w", mr.Name, err)
	}
	if len(mr.Match) > 0 {
		r.log.Warn("HTTP method/path/header matches of setMirrorRoute do not apply to HL7; mirroring a share of all messages",
			"route", t.key(), "managedRoute", mr.Name, "percentage", pct)
	}
	return &api.Mirror{Percentage: pct, ShadowService: svc}, nil
}

// checkShadow refuses a mirror target Service without the shadow label.
func checkShadow(ctx context.Context, d dynamic.Interface, t target, svc string) error {
	u, err := d.Resource(servicesGVR()).Namespace(t.Namespace).Get(ctx, svc, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("mirror target Service %s/%s not found", t.Namespace, svc)
	}
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("RBAC denied: the plugin may not get services in namespace %s (needed to check the shadow label): %w", t.Namespace, err)
	}
	if err != nil {
		return fmt.Errorf("get mirror target Service %s/%s: %w", t.Namespace, svc, err)
	}
	if u.GetLabels()[api.ShadowLabel] != "true" {
		return fmt.Errorf("mirror target Service %s/%s is not flagged shadow (label %s=true): a mirrored HL7 message stored twice is a duplicate clinical record",
			t.Namespace, svc, api.ShadowLabel)
	}
	return nil
}

func equalMirror(a, b *api.Mirror) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
