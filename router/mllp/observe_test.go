package mllp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

func TestDecodeConfigClaimsOnlyMLLPConfigs(t *testing.T) {
	cfg, err := DecodeConfig([]byte(`{"route":"mllp-listener","namespace":"other","verifyTimeout":"2s"}`))
	if err != nil || cfg.Route != "mllp-listener" || cfg.Namespace != "other" {
		t.Fatalf("decode: %+v %v", cfg, err)
	}
	for _, raw := range []string{`{}`, `{"httpRoute":"mllp-admin"}`, `{"namespace":"x"}`} {
		if _, err := DecodeConfig([]byte(raw)); !errors.Is(err, ErrNoRoute) {
			t.Errorf("%s: err = %v, want ErrNoRoute", raw, err)
		}
	}
	if _, err := DecodeConfig([]byte(`{"route":5}`)); err == nil || !strings.Contains(err.Error(), "bad config") {
		t.Errorf("bad type: %v", err)
	}
}

func TestObserveReportsSpecAndReplicas(t *testing.T) {
	route := baseRoute()
	route.Generation = 3
	route.Spec.Weight, route.Spec.MaxWeight = 50, 1000
	stale := replica("proxy-1", 2, 20, time.Minute)
	stale.StableMessages = 100
	fresh := replica("proxy-0", 3, 50, time.Second)
	fresh.MaxWeight, fresh.StableMessages, fresh.CanaryMessages = 1000, 950, 50
	fresh.Ready, fresh.Message = false, "canary backend has no endpoints"
	route.Status.Replicas = append(route.Status.Replicas, fresh, stale)
	d := newFake(routeObj(t, route))
	got, err := Observe(context.Background(), d, rollout(cfgRoute), Config{Route: "mllp-listener"}, epoch())
	if err != nil {
		t.Fatal(err)
	}
	want := Observation{Namespace: ns, Name: "mllp-listener", Generation: 3, Weight: 50, MaxWeight: 1000, Replicas: []ReplicaWeights{
		{Name: "proxy-0", Weight: 50, MaxWeight: 1000, ObservedGeneration: 3, Message: "canary backend has no endpoints", Fresh: true,
			StableMessages: 950, CanaryMessages: 50},
		{Name: "proxy-1", Weight: 20, MaxWeight: 1000, ObservedGeneration: 2, Ready: true, StableMessages: 100},
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("observed (-want +got):\n%s", d)
	}
	if s, ok := got.Replicas[0].CanaryPercent(); !ok || s != 5 {
		t.Errorf("share %v %v", s, ok)
	}
	if s, ok := got.Replicas[1].CanaryPercent(); !ok || s != 0 {
		t.Errorf("no canary messages: %v %v", s, ok)
	}
	if _, ok := (ReplicaWeights{}).CanaryPercent(); ok {
		t.Error("share before any message")
	}
	if w := writes(d); w != 0 {
		t.Errorf("observe wrote %d times", w)
	}
}

func TestObserveNamespaceAndMissingRoute(t *testing.T) {
	route := baseRoute()
	route.Namespace = "routes"
	d := newFake(routeObj(t, route))
	got, err := Observe(context.Background(), d, rollout(cfgRoute), Config{Route: "mllp-listener", Namespace: "routes"}, epoch())
	if err != nil || got.Namespace != "routes" || got.MaxWeight != 100 || got.Replicas != nil {
		t.Fatalf("other namespace: %+v %v", got, err)
	}
	_, err = Observe(context.Background(), d, rollout(cfgRoute), Config{Route: "mllp-listener"}, epoch())
	if !apierrors.IsNotFound(err) || !strings.HasPrefix(err.Error(), "mllproute "+ns+"/mllp-listener: ") {
		t.Errorf("missing route: %v", err)
	}
}
