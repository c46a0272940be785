package view

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nerve-rollouts/nerve/view/viewtest"
)

// worldTraffic is what the paused canary's routers carry, read under the plugin keys gw and hl7.
func worldTraffic(gw, hl7 string) Traffic {
	return Traffic{Rollout: name, SetWeight: "5", ActualWeight: "5",
		Backends: []BackendWeight{
			{Router: gw, Route: "httproutes/mllp-admin", Backend: name + "-stable", Role: "stable", Weight: 95, Share: "95.0%"},
			{Router: gw, Route: "httproutes/mllp-admin", Backend: name + "-canary", Role: "canary", Weight: 5, Share: "5.0%"},
		},
		MLLP: []MLLPReplica{
			{Router: hl7, Route: "mllproute/" + name, Replica: "nerve-mllp-proxy-0", Weight: "5/100", Ready: true, Fresh: true,
				StableMessages: 9512, CanaryMessages: 488, CanaryShare: "4.9%"},
			{Router: hl7, Route: "mllproute/" + name, Replica: "nerve-mllp-proxy-1", Weight: "5/100", Ready: true,
				StableMessages: 100, CanaryShare: "0.0%"},
		},
	}
}

// withPlugins is the world with the Rollout's trafficRouting plugins replaced.
func withPlugins(t *testing.T, plugins map[string]string) viewtest.World {
	t.Helper()
	w := viewtest.CanaryWorld(t)
	ro := viewtest.PausedCanary()
	ro.Spec.Strategy.Canary.TrafficRouting.Plugins = map[string]json.RawMessage{}
	for k, v := range plugins {
		ro.Spec.Strategy.Canary.TrafficRouting.Plugins[k] = json.RawMessage(v)
	}
	if len(plugins) == 0 {
		ro.Spec.Strategy.Canary.TrafficRouting = nil
	}
	w.Dynamic[0] = viewtest.RolloutObject(t, ro)
	return w
}

func TestTrafficOfTheWorld(t *testing.T) {
	r, _ := worldReader(t, viewtest.CanaryWorld(t))
	got, err := r.Traffic(t.Context(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(worldTraffic("nerve/gatewayAPI", "nerve/mllp"), got); d != "" {
		t.Errorf("traffic (-want +got):\n%s", d)
	}
}

// The plugin keys are the operator's: the config's shape picks the observer.
func TestTrafficDispatchesOnTheConfigNotTheKey(t *testing.T) {
	r, _ := worldReader(t, withPlugins(t, map[string]string{
		"argoproj-labs/gatewayAPI": `{"httpRoutes":[{"name":"mllp-admin"}]}`,
		"acme/hl7-router":          `{"route":"mllp-listener"}`,
	}))
	got, err := r.Traffic(t.Context(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(worldTraffic("argoproj-labs/gatewayAPI", "acme/hl7-router"), got); d != "" {
		t.Errorf("renamed keys (-want +got):\n%s", d)
	}
	// A key containing "mllp" that holds a Gateway API config is read as one.
	r, _ = worldReader(t, withPlugins(t, map[string]string{"mllp-admin-gw": `{"httpRoute":"mllp-admin"}`}))
	got, _ = r.Traffic(t.Context(), ns, name)
	if len(got.Backends) != 2 || len(got.MLLP) != 0 || len(got.Problems) != 0 {
		t.Errorf("gateway config under an mllp-ish key: %+v", got)
	}
}

func TestTrafficProblems(t *testing.T) {
	r, _ := worldReader(t, withPlugins(t, map[string]string{
		"a/list":    `[1]`,
		"b/unknown": `{"foo":1}`,
		"c/both":    `{"route":"mllp-listener","httpRoute":"mllp-admin"}`,
		"d/gone":    `{"httpRoute":"gone","httpRoutez":"typo"}`,
		"e/nomllp":  `{"route":"gone"}`,
	}))
	got, err := r.Traffic(t.Context(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"a/list: config is not a JSON object",
		"b/unknown: not the config of a router nerve can read (Gateway API: no routes configured",
		"; MLLP: field route (the MLLPRoute name) is required)",
		"c/both: the config fits more than one router (Gateway API, MLLP), so it is not read",
		`d/gone: json: unknown field "httpRoutez" (field ignored)`,
		`d/gone: httproutes clinical-ingestion/gone: httproutes.gateway.networking.k8s.io "gone" not found`,
		`e/nomllp: mllproute clinical-ingestion/gone: mllproutes.mllp.nerve.io "gone" not found`,
	}
	all := strings.Join(got.Problems, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("problems lack %q:\n%s", w, all)
		}
	}
	if len(got.Problems) != 6 || got.Backends != nil || got.MLLP != nil {
		t.Errorf("%d problems, %d backends, %d replicas:\n%s", len(got.Problems), len(got.Backends), len(got.MLLP), all)
	}
}

func TestTrafficWithoutRoutersOrClients(t *testing.T) {
	r, _ := worldReader(t, withPlugins(t, nil))
	got, err := r.Traffic(t.Context(), ns, name)
	if err != nil || len(got.Problems) != 1 || !strings.HasPrefix(got.Problems[0], "no trafficRouting plugins") {
		t.Errorf("replica canary: %+v %v", got, err)
	}
	r, _ = worldReader(t, viewtest.CanaryWorld(t))
	r.Gateway = nil
	got = r.TrafficOf(t.Context(), viewtest.PausedCanary())
	if len(got.MLLP) != 2 || len(got.Problems) != 1 || got.Problems[0] != "nerve/gatewayAPI: view.Reader: no Gateway API client" {
		t.Errorf("no gateway client: %+v", got.Problems)
	}
	w := viewtest.CanaryWorld(t)
	route := viewtest.MLLPRoute()
	route.Status.Replicas = nil
	w.Dynamic[2] = viewtest.ToUnstructured(t, route, "mllp.nerve.io/v1alpha1", "MLLPRoute")
	r, _ = worldReader(t, w)
	got = r.TrafficOf(t.Context(), viewtest.PausedCanary())
	if len(got.Problems) != 1 || got.Problems[0] != "nerve/mllp: mllproute clinical-ingestion/mllp-listener: spec weight 5/100, no proxy replica reports status" {
		t.Errorf("no replicas: %+v", got.Problems)
	}
}
