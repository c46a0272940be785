package gatewayapi

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Managed rules (header and mirror routes) are identified by their rule name only: the managed
// route's name for the rule derived from the first source rule, "<name>-<n>" for the one derived
// from the n-th further source rule. A rule whose name is not of that form for a route listed in
// spec.strategy.canary.trafficRouting.managedRoutes is never touched.

// managedNames returns the names in spec.strategy.canary.trafficRouting.managedRoutes.
func managedNames(ro *v1alpha1.Rollout) []string {
	tr := ro.Spec.Strategy.Canary.TrafficRouting
	if tr == nil {
		return nil
	}
	out := make([]string, 0, len(tr.ManagedRoutes))
	for _, m := range tr.ManagedRoutes {
		if m.Name != "" {
			out = append(out, m.Name)
		}
	}
	return out
}

// derivedName is the rule name of the k-th rule of managed route name.
func derivedName(name string, k int) string {
	if k == 0 {
		return name
	}
	return name + "-" + strconv.Itoa(k)
}

// ownerOf returns the managed route a rule name belongs to. An exact name wins over a derived
// one, so managed routes "a" and "a-1" never claim each other's rules.
func ownerOf(ruleName string, managed []string) (string, bool) {
	if ruleName == "" {
		return "", false
	}
	for _, m := range managed {
		if m == ruleName {
			return m, true
		}
	}
	for _, m := range managed {
		suffix, ok := strings.CutPrefix(ruleName, m+"-")
		if !ok || suffix == "" || strings.HasPrefix(suffix, "0") {
			continue
		}
		if _, err := strconv.ParseUint(suffix, 10, 16); err == nil {
			return m, true
		}
	}
	return "", false
}

// ownedRules returns the indexes of the rules of r that belong to managed route owner (every
// managed route when owner is "").
func ownedRules(r *route, owner string, managed []string) []int {
	var out []int
	for i, rule := range r.rules {
		if o, ok := ownerOf(rule.name, managed); ok && (owner == "" || o == owner) {
			out = append(out, i)
		}
	}
	return out
}

// sourceRules returns the weighted rules that are not managed rules: the rules header and
// mirror routes are derived from.
func sourceRules(r *route, w weightSpec, managed []string) []int {
	var out []int
	for _, i := range w.weightedRules(r) {
		if _, ok := ownerOf(r.rules[i].name, managed); !ok {
			out = append(out, i)
		}
	}
	return out
}

// typedRule returns rule i of r as its typed value (for comparisons).
func typedRule(r *route, i int) any {
	if r.http != nil {
		return r.http.Spec.Rules[i]
	}
	return r.grpc.Spec.Rules[i]
}

// managedRuleOps returns the operations that make owner's rules exactly desired: nothing when
// they already are, else remove the old ones (highest index first) and append the new ones.
func managedRuleOps(r *route, owner string, managed []string, desired []any) []patchOp {
	idx := ownedRules(r, owner, managed)
	if len(idx) == len(desired) {
		same := true
		for k, i := range idx {
			if !equality.Semantic.DeepEqual(typedRule(r, i), desired[k]) {
				same = false
				break
			}
		}
		if same {
			return nil
		}
	}
	ops := removeRuleOps(r, idx)
	for _, d := range desired {
		ops = append(ops, patchOp{Op: "add", Path: "/spec/rules/-", Value: d})
	}
	return ops
}

// removeRuleOps removes the rules of r at idx (ascending), highest first, each guarded by a test
// of its name.
func removeRuleOps(r *route, idx []int) []patchOp {
	ops := make([]patchOp, 0, 2*len(idx))
	for k := len(idx) - 1; k >= 0; k-- {
		i := idx[k]
		ops = append(ops,
			patchOp{Op: "test", Path: rulePath(i) + "/name", Value: r.rules[i].name},
			patchOp{Op: "remove", Path: rulePath(i)})
	}
	return ops
}

// validateManagedName checks that name is listed in managedRoutes and is a valid rule name.
func validateManagedName(name string, managed []string) error {
	if name == "" {
		return fmt.Errorf("managed route has no name")
	}
	listed := false
	for _, m := range managed {
		listed = listed || m == name
	}
	if !listed {
		return fmt.Errorf("managed route %q is not listed in spec.strategy.canary.trafficRouting.managedRoutes", name)
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("managed route %q cannot name a Gateway API rule: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// headerMatch is one header condition in Gateway API terms.
type headerMatch struct {
	name    string
	regex   bool
	value   string
	display string
}

// headerMatches converts a setHeaderRoute's matches: exact → Exact, prefix → RegularExpression
// "^<quoted prefix>.*", regex → RegularExpression.
func headerMatches(hr *v1alpha1.SetHeaderRoute) ([]headerMatch, error) {
	out := make([]headerMatch, 0, len(hr.Match))
	seen := map[string]bool{}
	for _, m := range hr.Match {
		if m.HeaderName == "" {
			return nil, fmt.Errorf("setHeaderRoute %q: a match has no headerName", hr.Name)
		}
		key := strings.ToLower(m.HeaderName)
		if seen[key] {
			return nil, fmt.Errorf("setHeaderRoute %q: header %q is matched twice; Gateway API allows one condition per header in a match", hr.Name, m.HeaderName)
		}
		seen[key] = true
		hm, err := stringMatch(m.HeaderName, m.HeaderValue)
		if err != nil {
			return nil, fmt.Errorf("setHeaderRoute %q: %w", hr.Name, err)
		}
		out = append(out, hm)
	}
	return out, nil
}

// stringMatch converts one StringMatch on a header.
func stringMatch(header string, sm *v1alpha1.StringMatch) (headerMatch, error) {
	switch {
	case sm == nil:
		return headerMatch{}, fmt.Errorf("header %q has no headerValue (set exact, prefix or regex)", header)
	case sm.Exact != "":
		return headerMatch{name: header, value: sm.Exact}, nil
	case sm.Prefix != "":
		return headerMatch{name: header, regex: true, value: "^" + regexp.QuoteMeta(sm.Prefix) + ".*"}, nil
	case sm.Regex != "":
		if _, err := regexp.Compile(sm.Regex); err != nil {
			return headerMatch{}, fmt.Errorf("header %q: invalid regex %q: %w", header, sm.Regex, err)
		}
		return headerMatch{name: header, regex: true, value: sm.Regex}, nil
	default:
		return headerMatch{}, fmt.Errorf("header %q: headerValue must set exact, prefix or regex", header)
	}
}

func (h headerMatch) http() gatewayv1.HTTPHeaderMatch {
	t := gatewayv1.HeaderMatchExact
	if h.regex {
		t = gatewayv1.HeaderMatchRegularExpression
	}
	return gatewayv1.HTTPHeaderMatch{Type: &t, Name: gatewayv1.HTTPHeaderName(h.name), Value: h.value}
}

func (h headerMatch) grpc() gatewayv1.GRPCHeaderMatch {
	t := gatewayv1.GRPCHeaderMatchExact
	if h.regex {
		t = gatewayv1.GRPCHeaderMatchRegularExpression
	}
	return gatewayv1.GRPCHeaderMatch{Type: &t, Name: gatewayv1.GRPCHeaderName(h.name), Value: h.value}
}

// mergeHTTPHeaders appends add to base; a header already matched by base is an error (Gateway
// API allows one condition per header name in a match).
func mergeHTTPHeaders(base []gatewayv1.HTTPHeaderMatch, add []headerMatch) ([]gatewayv1.HTTPHeaderMatch, error) {
	out := append([]gatewayv1.HTTPHeaderMatch(nil), base...)
	for _, h := range add {
		for _, b := range base {
			if strings.EqualFold(string(b.Name), h.name) {
				return nil, fmt.Errorf("header %q is already matched by the source rule", h.name)
			}
		}
		out = append(out, h.http())
	}
	return out, nil
}

func mergeGRPCHeaders(base []gatewayv1.GRPCHeaderMatch, add []headerMatch) ([]gatewayv1.GRPCHeaderMatch, error) {
	out := append([]gatewayv1.GRPCHeaderMatch(nil), base...)
	for _, h := range add {
		for _, b := range base {
			if strings.EqualFold(string(b.Name), h.name) {
				return nil, fmt.Errorf("header %q is already matched by the source rule", h.name)
			}
		}
		out = append(out, h.grpc())
	}
	return out, nil
}

// canaryOnly returns a copy of the canary's backendRef of a rule with weight 1 (the only backend
// of a header rule).
func canaryHTTPRef(rule gatewayv1.HTTPRouteRule, routeNS string, w weightSpec) gatewayv1.HTTPBackendRef {
	for _, b := range rule.BackendRefs {
		if w.refers(routeNS, b.BackendRef, w.canary) {
			ref := *b.DeepCopy()
			one := int32(1)
			ref.Weight = &one
			return ref
		}
	}
	return gatewayv1.HTTPBackendRef{}
}

func canaryGRPCRef(rule gatewayv1.GRPCRouteRule, routeNS string, w weightSpec) gatewayv1.GRPCBackendRef {
	for _, b := range rule.BackendRefs {
		if w.refers(routeNS, b.BackendRef, w.canary) {
			ref := *b.DeepCopy()
			one := int32(1)
			ref.Weight = &one
			return ref
		}
	}
	return gatewayv1.GRPCBackendRef{}
}

// defaultHTTPMatches returns the rule's matches, or the match the API server defaults an empty
// list to (path prefix "/").
func defaultHTTPMatches(ms []gatewayv1.HTTPRouteMatch) []gatewayv1.HTTPRouteMatch {
	if len(ms) > 0 {
		return ms
	}
	t := gatewayv1.PathMatchPathPrefix
	v := "/"
	return []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: &t, Value: &v}}}
}

// httpHeaderRules builds the header rules of managed route name, one per source rule.
func httpHeaderRules(r *route, w weightSpec, src []int, name string, hs []headerMatch) ([]any, error) {
	out := make([]any, 0, len(src))
	for k, i := range src {
		s := r.http.Spec.Rules[i]
		rule := *s.DeepCopy()
		rn := gatewayv1.SectionName(derivedName(name, k))
		rule.Name = &rn
		rule.BackendRefs = []gatewayv1.HTTPBackendRef{canaryHTTPRef(s, r.meta.Namespace, w)}
		rule.Matches = nil
		for _, m := range defaultHTTPMatches(s.Matches) {
			mm := *m.DeepCopy()
			merged, err := mergeHTTPHeaders(mm.Headers, hs)
			if err != nil {
				return nil, fmt.Errorf("%s rule %d: %w", r.target, i, err)
			}
			mm.Headers = merged
			rule.Matches = append(rule.Matches, mm)
		}
		out = append(out, rule)
	}
	return out, nil
}

// grpcHeaderRules builds the header rules of managed route name, one per source rule.
func grpcHeaderRules(r *route, w weightSpec, src []int, name string, hs []headerMatch) ([]any, error) {
	out := make([]any, 0, len(src))
	for k, i := range src {
		s := r.grpc.Spec.Rules[i]
		rule := *s.DeepCopy()
		rn := gatewayv1.SectionName(derivedName(name, k))
		rule.Name = &rn
		rule.BackendRefs = []gatewayv1.GRPCBackendRef{canaryGRPCRef(s, r.meta.Namespace, w)}
		matches := s.Matches
		if len(matches) == 0 {
			matches = []gatewayv1.GRPCRouteMatch{{}}
		}
		rule.Matches = nil
		for _, m := range matches {
			mm := *m.DeepCopy()
			merged, err := mergeGRPCHeaders(mm.Headers, hs)
			if err != nil {
				return nil, fmt.Errorf("%s rule %d: %w", r.target, i, err)
			}
			mm.Headers = merged
			rule.Matches = append(rule.Matches, mm)
		}
		out = append(out, rule)
	}
	return out, nil
}

// mirrorMatch is one setMirrorRoute match in Gateway API terms.
type mirrorMatch struct {
	method  *gatewayv1.HTTPMethod
	path    *gatewayv1.HTTPPathMatch
	headers []headerMatch
}

// mirrorMatches converts setMirrorRoute matches: method must be exact; path exact → Exact,
// prefix → PathPrefix (Gateway API prefixes match whole path elements), regex →
// RegularExpression; headers as for header routes (sorted by name).
func mirrorMatches(mr *v1alpha1.SetMirrorRoute) ([]mirrorMatch, error) {
	out := make([]mirrorMatch, 0, len(mr.Match))
	for n, m := range mr.Match {
		var mm mirrorMatch
		if m.Method != nil {
			if m.Method.Exact == "" {
				return nil, fmt.Errorf("setMirrorRoute %q match %d: Gateway API matches methods exactly; use method.exact", mr.Name, n)
			}
			meth := gatewayv1.HTTPMethod(strings.ToUpper(m.Method.Exact))
			mm.method = &meth
		}
		if m.Path != nil {
			p, err := pathMatch(m.Path)
			if err != nil {
				return nil, fmt.Errorf("setMirrorRoute %q match %d: %w", mr.Name, n, err)
			}
			mm.path = p
		}
		names := make([]string, 0, len(m.Headers))
		for h := range m.Headers {
			names = append(names, h)
		}
		sort.Strings(names)
		for _, h := range names {
			sm := m.Headers[h]
			hm, err := stringMatch(h, &sm)
			if err != nil {
				return nil, fmt.Errorf("setMirrorRoute %q match %d: %w", mr.Name, n, err)
			}
			mm.headers = append(mm.headers, hm)
		}
		out = append(out, mm)
	}
	return out, nil
}

func pathMatch(sm *v1alpha1.StringMatch) (*gatewayv1.HTTPPathMatch, error) {
	var t gatewayv1.PathMatchType
	var v string
	switch {
	case sm.Exact != "":
		t, v = gatewayv1.PathMatchExact, sm.Exact
	case sm.Prefix != "":
		t, v = gatewayv1.PathMatchPathPrefix, sm.Prefix
	case sm.Regex != "":
		if _, err := regexp.Compile(sm.Regex); err != nil {
			return nil, fmt.Errorf("invalid path regex %q: %w", sm.Regex, err)
		}
		t, v = gatewayv1.PathMatchRegularExpression, sm.Regex
	default:
		return nil, fmt.Errorf("path must set exact, prefix or regex")
	}
	return &gatewayv1.HTTPPathMatch{Type: &t, Value: &v}, nil
}

// httpMirrorRules builds the mirror rules of managed route name: for each source rule, a copy
// (same backends and weights, kept in step by SetWeight, same filters plus a RequestMirror
// filter sending percent % to the canary) whose matches are the intersections of the source's
// matches with the mirror's. A mirror rule never matches a request its source rule would not:
// combinations that cannot overlap are dropped, and a source rule without any overlap gets no
// mirror rule.
func httpMirrorRules(r *route, w weightSpec, src []int, name string, mms []mirrorMatch, percent int32) ([]any, error) {
	out := make([]any, 0, len(src))
	for _, i := range src {
		s := r.http.Spec.Rules[i]
		rule := *s.DeepCopy()
		rule.Matches = nil
		for _, base := range defaultHTTPMatches(s.Matches) {
			for _, mm := range mms {
				m, ok, err := narrowMatch(base, mm)
				if err != nil {
					return nil, fmt.Errorf("%s rule %d: %w", r.target, i, err)
				}
				if ok {
					rule.Matches = append(rule.Matches, m)
				}
			}
		}
		if len(rule.Matches) == 0 {
			continue
		}
		rn := gatewayv1.SectionName(derivedName(name, len(out)))
		rule.Name = &rn
		canary := canaryHTTPRef(s, r.meta.Namespace, w)
		p := percent
		rule.Filters = append(rule.Filters, gatewayv1.HTTPRouteFilter{
			Type:          gatewayv1.HTTPRouteFilterRequestMirror,
			RequestMirror: &gatewayv1.HTTPRequestMirrorFilter{BackendRef: canary.BackendObjectReference, Percent: &p},
		})
		out = append(out, rule)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: the mirror matches overlap no weighted rule's matches", r.target)
	}
	return out, nil
}

// narrowMatch intersects a source match with a mirror match. ok is false when they cannot
// overlap (different methods or disjoint paths).
func narrowMatch(base gatewayv1.HTTPRouteMatch, mm mirrorMatch) (gatewayv1.HTTPRouteMatch, bool, error) {
	m := *base.DeepCopy()
	if mm.method != nil {
		if m.Method != nil && *m.Method != *mm.method {
			return m, false, nil
		}
		meth := *mm.method
		m.Method = &meth
	}
	path, ok, err := intersectPaths(m.Path, mm.path)
	if err != nil || !ok {
		return m, ok, err
	}
	m.Path = path
	hs, err := mergeHTTPHeaders(m.Headers, mm.headers)
	if err != nil {
		return m, false, err
	}
	m.Headers = hs
	return m, true, nil
}

// intersectPaths returns the narrower of two path matches, false when they are disjoint, and an
// error when the intersection cannot be expressed (two different regular expressions, or a
// regular expression under a specific path).
func intersectPaths(src, mir *gatewayv1.HTTPPathMatch) (*gatewayv1.HTTPPathMatch, bool, error) {
	switch {
	case mir == nil:
		return src, true, nil
	case isRootPrefix(src):
		return mir.DeepCopy(), true, nil
	case isRootPrefix(mir):
		return src, true, nil
	}
	st, mt := pathType(src), pathType(mir)
	if st == gatewayv1.PathMatchRegularExpression || mt == gatewayv1.PathMatchRegularExpression {
		if st == mt && *src.Value == *mir.Value {
			return src, true, nil
		}
		return nil, false, fmt.Errorf("cannot intersect path %s %q with mirror path %s %q", st, *src.Value, mt, *mir.Value)
	}
	sv, mv := *src.Value, *mir.Value
	switch {
	case within(mv, mt, sv, st):
		return mir.DeepCopy(), true, nil
	case within(sv, st, mv, mt):
		return src, true, nil
	default:
		return nil, false, nil
	}
}

func isRootPrefix(p *gatewayv1.HTTPPathMatch) bool {
	return p == nil || (pathType(p) == gatewayv1.PathMatchPathPrefix && (p.Value == nil || *p.Value == "/"))
}

func pathType(p *gatewayv1.HTTPPathMatch) gatewayv1.PathMatchType {
	if p.Type == nil {
		return gatewayv1.PathMatchPathPrefix
	}
	return *p.Type
}

// within reports whether every path matched by (v, t) is matched by (outer, ot), for exact and
// element-wise prefix matches.
func within(v string, t gatewayv1.PathMatchType, outer string, ot gatewayv1.PathMatchType) bool {
	if ot == gatewayv1.PathMatchExact {
		return t == gatewayv1.PathMatchExact && v == outer
	}
	o := strings.TrimSuffix(outer, "/")
	return v == outer || v == o || strings.HasPrefix(v, o+"/")
}
