package mllp

import (
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

func TestImplementsTrafficRouter(t *testing.T) { var _ plugins.TrafficRouter = New(Options{}) }

func TestSetWeightWritesOnceAndIsIdempotent(t *testing.T) {
	d := newFake(routeObj(t, baseRoute()))
	r := newRouter(d, nil)
	ro := rollout(cfgRoute)
	for range 3 {
		if err := r.SetWeight(t.Context(), ro, 25, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := readRoute(t, d); got.Spec.Weight != 25 || got.Spec.EffectiveMaxWeight() != 100 {
		t.Fatalf("spec = %+v", got.Spec)
	}
	if n := writes(d); n != 1 {
		t.Fatalf("%d writes for 3 identical SetWeight calls, want 1", n)
	}
}

func TestSetWeightMaxWeightAndServices(t *testing.T) {
	base := baseRoute()
	base.Spec.StableService, base.Spec.CanaryService = "old-stable", ""
	d := newFake(routeObj(t, base))
	ro := rollout(cfgRoute)
	mw := int32(1000)
	ro.Spec.Strategy.Canary.TrafficRouting.MaxTrafficWeight = &mw
	if err := newRouter(d, nil).SetWeight(t.Context(), ro, 250, nil); err != nil {
		t.Fatal(err)
	}
	got := readRoute(t, d).Spec
	if got.Weight != 250 || got.MaxWeight != 1000 || got.StableService != "stable" || got.CanaryService != "canary" {
		t.Fatalf("spec = %+v", got)
	}
	if err := newRouter(d, nil).SetWeight(t.Context(), ro, 1001, nil); err == nil || !strings.Contains(err.Error(), "outside 0..1000") {
		t.Fatalf("weight above maxTrafficWeight: %v", err)
	}
}

func TestSetWeightRetriesConflicts(t *testing.T) {
	d := newFake(routeObj(t, baseRoute()))
	conflicts := 2
	d.PrependReactor("update", api.Resource, func(k8stesting.Action) (bool, runtime.Object, error) {
		if conflicts > 0 {
			conflicts--
			return true, nil, apierrors.NewConflict(schema.GroupResource{Group: api.Group, Resource: api.Resource}, "mllp-listener", nil)
		}
		return false, nil, nil
	})
	if err := newRouter(d, nil).SetWeight(t.Context(), rollout(cfgRoute), 50, nil); err != nil {
		t.Fatal(err)
	}
	if readRoute(t, d).Spec.Weight != 50 || conflicts != 0 {
		t.Fatalf("weight %d after conflicts (left %d)", readRoute(t, d).Spec.Weight, conflicts)
	}
}

func TestUpdateHash(t *testing.T) {
	d := newFake(routeObj(t, baseRoute()))
	r := newRouter(d, nil)
	for range 2 {
		if err := r.UpdateHash(t.Context(), rollout(cfgRoute), "c0ffee", "5ab1e", nil); err != nil {
			t.Fatal(err)
		}
	}
	s := readRoute(t, d).Spec
	if s.CanaryHash != "c0ffee" || s.StableHash != "5ab1e" || writes(d) != 1 {
		t.Fatalf("spec %+v, %d writes", s, writes(d))
	}
}

func TestErrors(t *testing.T) {
	forbidden := newFake(routeObj(t, baseRoute()))
	forbidden.PrependReactor("*", api.Resource, func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: api.Group, Resource: api.Resource}, "mllp-listener", nil)
	})
	cases := []struct {
		name, cfg, want string
		d               k8stesting.FakeClient
	}{
		{"not found", `{"route":"nope"}`, "MLLPRoute clinical/nope not found", nil},
		{"wrong namespace", `{"route":"mllp-listener","namespace":"other"}`, `config namespace "other" differs from the Rollout's namespace "clinical"`, nil},
		{"no route field", `{}`, "field route (the MLLPRoute name) is required", nil},
		{"bad json", `{"route":1}`, "bad config", nil},
		{"bad verifyTimeout", `{"route":"x","verifyTimeout":"soon"}`, "field verifyTimeout", nil},
		{"bad header map", `{"route":"x","headers":{"X-A":"PID-3"}}`, `headers["X-A"]`, nil},
		{"rbac", cfgRoute, "RBAC denied", forbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newFake(routeObj(t, baseRoute()))
			if c.d != nil {
				d = forbidden
			}
			err := newRouter(d, nil).SetWeight(t.Context(), rollout(c.cfg), 5, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
	ro := rollout(cfgRoute)
	ro.Spec.Strategy.Canary.TrafficRouting.Plugins = nil
	if err := newRouter(newFake(), nil).SetWeight(t.Context(), ro, 5, nil); err == nil || !strings.Contains(err.Error(), `plugins["nerve/mllp"]`) {
		t.Fatalf("missing config: %v", err)
	}
}

func TestPluginNameOption(t *testing.T) {
	d := newFake(routeObj(t, baseRoute()))
	ro := rollout(cfgRoute)
	ro.Spec.Strategy.Canary.TrafficRouting.Plugins["acme/mllp"] = ro.Spec.Strategy.Canary.TrafficRouting.Plugins[DefaultPluginName]
	delete(ro.Spec.Strategy.Canary.TrafficRouting.Plugins, DefaultPluginName)
	if err := New(Options{Name: "acme/mllp", Dynamic: d}).SetWeight(t.Context(), ro, 5, nil); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyWeight(t *testing.T) {
	cases := []struct {
		name     string
		gen      int64
		weight   int32
		replicas []api.ReplicaStatus
		want     plugins.RpcVerified
		msg      string
	}{
		{"all fresh applied", 3, 25, []api.ReplicaStatus{replica("p0", 3, 25, time.Second), replica("p1", 3, 25, 9*time.Second)}, plugins.Verified, "by 2 live replica(s): p0, p1"},
		{"one old generation", 3, 25, []api.ReplicaStatus{replica("p0", 3, 25, time.Second), replica("p1", 2, 25, time.Second)}, plugins.NotVerified, "lagging replicas: p1 (generation 2 of 3, weight 25)"},
		{"one old weight", 3, 25, []api.ReplicaStatus{replica("p0", 3, 5, time.Second), replica("p1", 3, 25, time.Second)}, plugins.NotVerified, "lagging replicas: p0"},
		{"stale lagging replica ignored", 3, 25, []api.ReplicaStatus{replica("p0", 3, 25, time.Second), replica("dead", 1, 5, 11*time.Second)}, plugins.Verified, "by 1 live replica(s): p0"},
		{"no replica", 3, 25, nil, plugins.NotVerified, "no live proxy replica"},
		{"only expired replicas", 3, 25, []api.ReplicaStatus{replica("dead", 3, 25, time.Minute)}, plugins.NotVerified, "no live proxy replica"},
		{"spec weight differs", 3, 50, []api.ReplicaStatus{replica("p0", 3, 25, time.Second)}, plugins.NotVerified, "spec.weight is 25, not 50"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			route := baseRoute()
			route.Generation, route.Spec.Weight, route.Status.Replicas = c.gen, 25, c.replicas
			d := newFake(routeObj(t, route))
			got, err := newRouter(d, nil).VerifyWeight(t.Context(), rollout(cfgRoute), c.weight, nil)
			if err != nil || got != c.want {
				t.Fatalf("VerifyWeight = %v, %v; want %v", got, err, c.want)
			}
			if ann := readRoute(t, d).Annotations[VerifyAnnotation]; !strings.Contains(ann, c.msg) {
				t.Fatalf("annotation %q, want it to contain %q", ann, c.msg)
			}
		})
	}
}

func TestVerifyWeightRecordsOnlyChanges(t *testing.T) {
	route := baseRoute()
	route.Spec.Weight = 5
	route.Status.Replicas = []api.ReplicaStatus{replica("p0", 0, 0, time.Second)}
	d := newFake(routeObj(t, route))
	r := newRouter(d, nil)
	for range 3 {
		if v, err := r.VerifyWeight(t.Context(), rollout(cfgRoute), 5, nil); v != plugins.NotVerified || err != nil {
			t.Fatalf("%v %v", v, err)
		}
	}
	if n := writes(d); n != 1 {
		t.Fatalf("%d annotation writes for 3 identical verdicts, want 1", n)
	}
}

func TestVerifyWeightWaits(t *testing.T) {
	route := baseRoute()
	route.Spec.Weight = 5
	route.Status.Replicas = []api.ReplicaStatus{replica("p0", 0, 0, time.Second)}
	d := newFake(routeObj(t, route))
	gets := 0
	d.PrependReactor("get", api.Resource, func(k8stesting.Action) (bool, runtime.Object, error) {
		gets++
		if gets == 3 {
			route.Status.Replicas = []api.ReplicaStatus{replica("p0", 1, 5, 0)}
			return true, routeObj(t, route), nil
		}
		return false, nil, nil
	})
	r := New(Options{Dynamic: d, PollInterval: time.Millisecond, Now: epoch})
	// The fake clock never advances: a 1s verifyTimeout would poll forever without the
	// replica catching up, so this also shows that the loop exits on Verified.
	v, err := r.VerifyWeight(t.Context(), rollout(`{"route":"mllp-listener","verifyTimeout":"1s"}`), 5, nil)
	if err != nil || v != plugins.Verified || gets < 3 {
		t.Fatalf("VerifyWeight = %v, %v after %d gets", v, err, gets)
	}
}

func TestTypeAndInit(t *testing.T) {
	r := newRouter(newFake(), nil)
	if typ, err := r.Type(t.Context()); typ != "MLLP" || err != nil {
		t.Fatalf("Type = %q, %v", typ, err)
	}
	if err := r.InitPlugin(t.Context()); err != nil {
		t.Fatal(err)
	}
}
