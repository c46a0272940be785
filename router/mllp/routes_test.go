package mllp

import (
	"strings"
	"testing"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

func header(name, h string, v v1alpha1.StringMatch) *v1alpha1.SetHeaderRoute {
	return &v1alpha1.SetHeaderRoute{Name: name, Match: []v1alpha1.HeaderRoutingMatch{{HeaderName: h, HeaderValue: &v}}}
}

func TestSetHeaderRouteMapping(t *testing.T) {
	cases := []struct {
		header string
		value  v1alpha1.StringMatch
		want   api.Match
	}{
		{"MSH-4", v1alpha1.StringMatch{Exact: "LAB1"}, api.Match{Name: "fac", Field: api.FieldMSH4, Exact: "LAB1"}},
		{"sending-facility", v1alpha1.StringMatch{Prefix: "LAB"}, api.Match{Name: "fac", Field: api.FieldMSH4, Prefix: "LAB"}},
		{"Sending-Facility", v1alpha1.StringMatch{Regex: "^LAB[0-9]$"}, api.Match{Name: "fac", Field: api.FieldMSH4, Regex: "^LAB[0-9]$"}},
		{"msh-9", v1alpha1.StringMatch{Exact: "ORU^R01"}, api.Match{Name: "fac", Field: api.FieldMSH9, Exact: "ORU^R01"}},
		{"Message-Type", v1alpha1.StringMatch{Prefix: "ADT^"}, api.Match{Name: "fac", Field: api.FieldMSH9, Prefix: "ADT^"}},
		{"X-Facility", v1alpha1.StringMatch{Exact: "FAC2"}, api.Match{Name: "fac", Field: api.FieldMSH4, Exact: "FAC2"}},
	}
	for _, c := range cases {
		t.Run(c.header, func(t *testing.T) {
			d := newFake(routeObj(t, baseRoute()))
			err := newRouter(d, nil).SetHeaderRoute(t.Context(), rollout(`{"route":"mllp-listener","headers":{"x-facility":"sending-facility"}}`), header("fac", c.header, c.value))
			if err != nil {
				t.Fatal(err)
			}
			if m := readRoute(t, d).Spec.Matches; len(m) != 1 || m[0] != c.want {
				t.Fatalf("matches = %+v, want [%+v]", m, c.want)
			}
		})
	}
}

func TestSetHeaderRouteTracksNamedRules(t *testing.T) {
	base := baseRoute()
	base.Spec.Matches = []api.Match{{Name: "human", Field: api.FieldMSH4, Exact: "KEEP"}}
	d := newFake(routeObj(t, base))
	r, ro := newRouter(d, nil), rollout(cfgRoute)
	steps := []*v1alpha1.SetHeaderRoute{
		header("fac", "MSH-4", v1alpha1.StringMatch{Exact: "LAB1"}),
		header("oru", "MSH-9", v1alpha1.StringMatch{Exact: "ORU^R01"}),
		header("fac", "MSH-4", v1alpha1.StringMatch{Exact: "LAB2"}), // replaces fac's rule
		header("fac", "MSH-4", v1alpha1.StringMatch{Exact: "LAB2"}), // idempotent
	}
	for _, s := range steps {
		if err := r.SetHeaderRoute(t.Context(), ro, s); err != nil {
			t.Fatal(err)
		}
	}
	got := readRoute(t, d).Spec.Matches
	if len(got) != 3 || got[0].Name != "human" || got[1].Name != "oru" || got[2] != (api.Match{Name: "fac", Field: api.FieldMSH4, Exact: "LAB2"}) {
		t.Fatalf("matches = %+v", got)
	}
	if n := writes(d); n != 3 {
		t.Fatalf("%d writes, want 3 (the repeated step writes nothing)", n)
	}
	if err := r.SetHeaderRoute(t.Context(), ro, &v1alpha1.SetHeaderRoute{Name: "oru"}); err != nil {
		t.Fatal(err)
	}
	if got := readRoute(t, d).Spec.Matches; len(got) != 2 || got[1].Name != "fac" {
		t.Fatalf("after removing oru: %+v", got)
	}
}

func TestSetHeaderRouteErrors(t *testing.T) {
	cases := []struct {
		name string
		hr   *v1alpha1.SetHeaderRoute
		want string
	}{
		{"unknown header", header("fac", "X-Canary", v1alpha1.StringMatch{Exact: "1"}), `headerName "X-Canary" is not an HL7 field`},
		{"two values", header("fac", "MSH-4", v1alpha1.StringMatch{Exact: "A", Prefix: "B"}), "exactly one of exact, prefix, regex"},
		{"bad regex", header("fac", "MSH-4", v1alpha1.StringMatch{Regex: "("}), "regex"},
		{"not managed", header("zzz", "MSH-4", v1alpha1.StringMatch{Exact: "A"}), "not listed in spec.strategy.canary.trafficRouting.managedRoutes"},
		{"no name", &v1alpha1.SetHeaderRoute{}, "name is required"},
		{"and of two", &v1alpha1.SetHeaderRoute{Name: "fac", Match: []v1alpha1.HeaderRoutingMatch{
			{HeaderName: "MSH-4", HeaderValue: &v1alpha1.StringMatch{Exact: "A"}},
			{HeaderName: "MSH-9", HeaderValue: &v1alpha1.StringMatch{Exact: "B"}}}}, "MLLP match rules are ORed"},
		{"nil value", &v1alpha1.SetHeaderRoute{Name: "fac", Match: []v1alpha1.HeaderRoutingMatch{{HeaderName: "MSH-4"}}}, "headerValue is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newFake(routeObj(t, baseRoute()))
			err := newRouter(d, nil).SetHeaderRoute(t.Context(), rollout(cfgRoute), c.hr)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if writes(d) != 0 {
				t.Fatal("a refused step wrote the route")
			}
		})
	}
}

func mirrorStep(pct int32) *v1alpha1.SetMirrorRoute {
	return &v1alpha1.SetMirrorRoute{Name: "mirror", Percentage: &pct, Match: []v1alpha1.RouteMatch{{}}}
}

func TestSetMirrorRouteRefusesUnflaggedTarget(t *testing.T) {
	d := newFake(routeObj(t, baseRoute()), service("canary", false))
	err := newRouter(d, nil).SetMirrorRoute(t.Context(), rollout(cfgRoute), mirrorStep(10))
	want := "mirror target Service clinical/canary is not flagged shadow (label mllp.nerve.io/shadow=true): a mirrored HL7 message stored twice is a duplicate clinical record"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v", err)
	}
	if readRoute(t, d).Spec.Mirror != nil || writes(d) != 0 {
		t.Fatal("refused mirror was written")
	}
	err = newRouter(newFake(routeObj(t, baseRoute())), nil).SetMirrorRoute(t.Context(), rollout(cfgRoute), mirrorStep(10))
	if err == nil || !strings.Contains(err.Error(), "mirror target Service clinical/canary not found") {
		t.Fatalf("missing Service: %v", err)
	}
}

func TestSetMirrorRouteAndRemove(t *testing.T) {
	d := newFake(routeObj(t, baseRoute()), service("canary", false), service("shadow", true))
	r, ro := newRouter(d, nil), rollout(`{"route":"mllp-listener","mirrorService":"shadow"}`)
	for range 2 {
		if err := r.SetMirrorRoute(t.Context(), ro, mirrorStep(10)); err != nil {
			t.Fatal(err)
		}
	}
	if m := readRoute(t, d).Spec.Mirror; m == nil || *m != (api.Mirror{Percentage: 10, ShadowService: "shadow"}) || writes(d) != 1 {
		t.Fatalf("mirror %+v, %d writes", m, writes(d))
	}
	if err := r.SetMirrorRoute(t.Context(), ro, mirrorStep(101)); err == nil || !strings.Contains(err.Error(), "percentage 101") {
		t.Fatalf("bad percentage: %v", err)
	}
	if err := r.SetMirrorRoute(t.Context(), ro, &v1alpha1.SetMirrorRoute{Name: "mirror"}); err != nil {
		t.Fatal(err)
	}
	if readRoute(t, d).Spec.Mirror != nil {
		t.Fatal("nil match did not remove the mirror")
	}
}

func TestRemoveManagedRoutes(t *testing.T) {
	base := baseRoute()
	base.Spec.Weight = 30
	base.Spec.Matches = []api.Match{{Name: "fac", Field: api.FieldMSH4, Exact: "LAB1"}}
	base.Spec.Mirror = &api.Mirror{Percentage: 5, ShadowService: "shadow"}
	d := newFake(routeObj(t, base))
	r := newRouter(d, nil)
	for range 2 {
		if err := r.RemoveManagedRoutes(t.Context(), rollout(cfgRoute)); err != nil {
			t.Fatal(err)
		}
	}
	s := readRoute(t, d).Spec
	if len(s.Matches) != 0 || s.Mirror != nil || s.Weight != 30 || writes(d) != 1 {
		t.Fatalf("spec %+v, %d writes", s, writes(d))
	}
}
