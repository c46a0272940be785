//go:build e2e

package gatewayapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/router/gatewayapi"
)

// webRoute is an HTTPRoute with one weighted rule ("main") and three rules nerve must never
// touch: a fixed route to the canary (argoproj-labs#217), a route to another app, and a user's
// own header route to the canary whose name looks like a managed route's derivative.
const webRoute = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
spec:
  parentRefs: [{name: gw}]
  hostnames: [web.example.org]
  rules:
  - name: main
    matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs:
    - {name: web-stable, port: 80, weight: 100}
    - {name: web-canary, port: 80, weight: 0}
  - name: query-param-canary
    matches:
    - path: {type: PathPrefix, value: /}
      queryParams: [{type: Exact, name: canary, value: "true"}]
    backendRefs:
    - {name: web-canary, port: 80}
  - name: other-app
    matches: [{path: {type: PathPrefix, value: /other}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-app, value: other}]}
    backendRefs:
    - {name: other, port: 8080, weight: 7}
  - name: header-users
    matches: [{headers: [{name: x-canary, value: always}]}]
    backendRefs:
    - {name: web-canary, port: 80, weight: 1}
`

// The rules of webRoute nerve weights; every other rule must stay byte for byte as it is.
var weightedRules = []string{"main"}

func TestHTTPRouteWeightsStepAndAbort(t *testing.T) {
	h := setup(t, "--verifyWait=0s")
	h.env.Apply(t, webRoute)
	unmanaged := h.rulesJSON(t, "HTTPRoute", "web", weightedRules...)
	ro := h.rollout(`{"httpRoute":"web"}`, "canary-header")
	ctx := t.Context()

	for _, w := range []int32{5, 25, 50, 100} {
		if err := h.router.SetWeight(ctx, ro, w, nil); err != nil {
			t.Fatalf("SetWeight(%d): %v", w, err)
		}
		route := h.httpRoute(t, "web")
		want := map[string]string{stableSvc: fmt.Sprint(100 - w), canarySvc: fmt.Sprint(w)}
		if got := weights(route, 0); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("weight %d: backendRefs %v, want %v", w, got, want)
		}
		if route.Labels[gatewayapi.DefaultInProgressLabelKey] != gatewayapi.DefaultInProgressLabelValue {
			t.Fatalf("weight %d: in-progress label missing: %v", w, route.Labels)
		}
		if got := h.rulesJSON(t, "HTTPRoute", "web", weightedRules...); got != unmanaged {
			t.Fatalf("weight %d: unmanaged rules changed:\nbefore %s\nafter  %s", w, unmanaged, got)
		}

		// The spec carries the weight, but no Gateway has accepted this generation yet.
		mustVerify(t, h.router, ro, w, plugins.NotVerified)
		h.accept(t, "HTTPRoute", "web")
		mustVerify(t, h.router, ro, w, plugins.Verified)

		// Repeating SetWeight (the controller does on every resync) writes nothing.
		rv := h.httpRoute(t, "web").ResourceVersion
		if err := h.router.SetWeight(ctx, ro, w, nil); err != nil {
			t.Fatal(err)
		}
		if got := h.httpRoute(t, "web").ResourceVersion; got != rv {
			t.Fatalf("weight %d: repeated SetWeight wrote (resourceVersion %s -> %s)", w, rv, got)
		}
	}

	// Abort: back to all-stable.
	if err := h.router.SetWeight(ctx, ro, 0, nil); err != nil {
		t.Fatal(err)
	}
	route := h.httpRoute(t, "web")
	if got := weights(route, 0); got[stableSvc] != "100" || got[canarySvc] != "0" {
		t.Fatalf("after abort: %v", got)
	}
	if _, ok := route.Labels[gatewayapi.DefaultInProgressLabelKey]; ok {
		t.Fatalf("in-progress label left after abort: %v", route.Labels)
	}
	mustVerify(t, h.router, ro, 0, plugins.NotVerified)
	h.accept(t, "HTTPRoute", "web")
	mustVerify(t, h.router, ro, 0, plugins.Verified)
	if err := h.router.RemoveManagedRoutes(ctx, ro); err != nil {
		t.Fatal(err)
	}
	if got := h.rulesJSON(t, "HTTPRoute", "web", weightedRules...); got != unmanaged {
		t.Fatalf("unmanaged rules changed:\nbefore %s\nafter  %s", unmanaged, got)
	}
}

func TestMaxTrafficWeightAndExperimentDestinations(t *testing.T) {
	h := setup(t, "--verifyWait=0s")
	h.env.Apply(t, webRoute+`---
apiVersion: v1
kind: Service
metadata: {name: web-exp}
spec:
  ports: [{name: metrics, port: 9090}, {name: http, port: 8081}]
`)
	unmanaged := h.rulesJSON(t, "HTTPRoute", "web", weightedRules...)
	ro := h.rollout(`{"httpRoute":"web"}`)
	maxW := int32(1000)
	ro.Spec.Strategy.Canary.TrafficRouting.MaxTrafficWeight = &maxW
	ro.Status.Canary.CurrentExperiment = "web-exp"
	add := []v1alpha1.WeightDestination{{ServiceName: "web-exp", Weight: 50}}
	if err := h.router.SetWeight(t.Context(), ro, 5, add); err != nil {
		t.Fatal(err)
	}
	got := weights(h.httpRoute(t, "web"), 0)
	if want := "map[web-canary:5 web-exp:50 web-stable:945]"; fmt.Sprint(got) != want {
		t.Fatalf("weights %v, want %s", got, want)
	}
	if port := *h.httpRoute(t, "web").Spec.Rules[0].BackendRefs[2].Port; port != 8081 {
		t.Fatalf("experiment backendRef port %d, want the Service's http port 8081", port)
	}
	h.accept(t, "HTTPRoute", "web")
	if v, err := h.router.VerifyWeight(t.Context(), ro, 5, add); err != nil || v != plugins.Verified {
		t.Fatalf("VerifyWeight with experiment = %v %v", v, err)
	}

	// The experiment ends: no additional destinations, the status still names the old one.
	ro.Status.Canary.CurrentExperiment = ""
	ro.Status.Canary.Weights = &v1alpha1.TrafficWeights{Additional: add}
	if err := h.router.SetWeight(t.Context(), ro, 5, nil); err != nil {
		t.Fatal(err)
	}
	if got := weights(h.httpRoute(t, "web"), 0); fmt.Sprint(got) != "map[web-canary:5 web-stable:995]" {
		t.Fatalf("after the experiment: %v", got)
	}
	if got := h.rulesJSON(t, "HTTPRoute", "web", weightedRules...); got != unmanaged {
		t.Fatalf("unmanaged rules changed:\nbefore %s\nafter  %s", unmanaged, got)
	}
}

// TestDropInForLabsPlugin registers the binary under the labs plugin's name with
// --name=argoproj-labs/gatewayAPI: a Rollout written for the labs plugin works unchanged.
func TestDropInForLabsPlugin(t *testing.T) {
	h := setup(t, "--verifyWait=0s")
	h.env.Apply(t, webRoute)
	labs := startViaHost(t, gatewayapi.LabsPluginName, "--name="+gatewayapi.LabsPluginName, "-kubeClientQPS=20", "-kubeClientBurst=40")
	ro := h.rollout(`{}`)
	ro.Spec.Strategy.Canary.TrafficRouting.Plugins = map[string]json.RawMessage{
		gatewayapi.LabsPluginName: json.RawMessage(`{"httpRoutes":[{"name":"web","useHeaderRoutes":true}]}`),
	}
	if err := labs.SetWeight(t.Context(), ro, 30, nil); err != nil {
		t.Fatal(err)
	}
	if got := weights(h.httpRoute(t, "web"), 0); got[stableSvc] != "70" || got[canarySvc] != "30" {
		t.Fatalf("weights %v", got)
	}
	// The default-named plugin finds no config under its own key and says so.
	if err := h.router.SetWeight(t.Context(), ro, 30, nil); err == nil || !strings.Contains(err.Error(), gatewayapi.LabsPluginName) {
		t.Fatalf("nerve/gatewayAPI on a labs-keyed Rollout: %v", err)
	}
}

// TestConcurrentWritersAreRetried keeps another writer busy on the route (every 10ms, far busier
// than any real controller) while the plugin sets weights. Weight patches are guarded by tests of
// the backendRefs' names, not by the resourceVersion, so unrelated writes (labels, annotations, a
// Gateway's status) do not make them fail; a stale plan is re-read and re-planned.
func TestConcurrentWritersAreRetried(t *testing.T) {
	h := setup(t, "--verifyWait=0s")
	h.env.Apply(t, webRoute)
	ri := h.resource(t, "HTTPRoute", "")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	go func() {
		n := 0
		for ctx.Err() == nil {
			patch := fmt.Sprintf(`{"metadata":{"annotations":{"e2e/other-writer":"%d"}}}`, n)
			if _, err := ri.Patch(ctx, "web", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err == nil {
				n++
			}
			time.Sleep(10 * time.Millisecond)
		}
		done <- n
	}()
	ro := h.rollout(`{"httpRoute":"web"}`)
	for i := range 20 {
		w := int32(i*5 + 1)
		if err := h.router.SetWeight(t.Context(), ro, w, nil); err != nil {
			cancel()
			<-done
			t.Fatalf("SetWeight(%d) with a concurrent writer: %v", w, err)
		}
		if got := weights(h.httpRoute(t, "web"), 0); got[canarySvc] != fmt.Sprint(w) {
			cancel()
			<-done
			t.Fatalf("weight %d: %v", w, got)
		}
	}
	cancel()
	if n := <-done; n < 5 {
		t.Fatalf("the other writer only wrote %d times; the test did not race", n)
	}
}
