//go:build e2e

// Package gatewayapi holds the e2e tests of the nerve-gatewayapi plugin: the real plugin binary,
// driven over the real go-plugin wire (through nerve's plugin host, or go-plugin directly where a
// test needs its own environment), against real HTTPRoute, GRPCRoute, TCPRoute and TLSRoute
// objects on the local control plane. No Gateway implementation runs there, so tests play the
// Gateway's part when they need one: they write status.parents.
package gatewayapi

import (
	"encoding/json"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/router/gatewayapi"
)

func TestMain(m *testing.M) { framework.Main(m) }

const (
	pluginBinary = "nerve-gatewayapi"
	stableSvc    = "web-stable"
	canarySvc    = "web-canary"
)

// harness is one test's namespace, clients and plugin.
type harness struct {
	env    *framework.Env
	gw     gwclient.Interface
	router plugins.TrafficRouter
}

// startViaHost starts the plugin binary through nerve's plugin host under name, with args.
func startViaHost(t *testing.T, name string, args ...string) plugins.TrafficRouter {
	t.Helper()
	return framework.StartTrafficRouter(t, name, pluginBinary, args...)
}

// setup creates a fresh namespace and starts the plugin through nerve's plugin host with args.
func setup(t *testing.T, args ...string) *harness {
	t.Helper()
	env := framework.New(t)
	gw, err := gwclient.NewForConfig(env.Config)
	if err != nil {
		t.Fatalf("gateway clientset: %v", err)
	}
	return &harness{env: env, gw: gw, router: startViaHost(t, gatewayapi.DefaultPluginName, args...)}
}

// rollout returns a Rollout in the harness namespace whose plugin config is cfg.
func (h *harness) rollout(cfg string, managed ...string) *v1alpha1.Rollout {
	ro := &v1alpha1.Rollout{}
	ro.Name, ro.Namespace = "web", h.env.Namespace
	tr := &v1alpha1.RolloutTrafficRouting{Plugins: map[string]json.RawMessage{gatewayapi.DefaultPluginName: json.RawMessage(cfg)}}
	for _, m := range managed {
		tr.ManagedRoutes = append(tr.ManagedRoutes, v1alpha1.MangedRoutes{Name: m})
	}
	ro.Spec.Strategy.Canary = &v1alpha1.CanaryStrategy{StableService: stableSvc, CanaryService: canarySvc, TrafficRouting: tr}
	return ro
}

func gvk(kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: gatewayv1.GroupName, Version: "v1", Kind: kind}
}

// resource returns the dynamic client of a route kind in ns.
func (h *harness) resource(t *testing.T, kind, ns string) dynamic.ResourceInterface {
	t.Helper()
	ri, err := h.env.ResourceFor(gvk(kind), ns)
	if err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	return ri
}

// httpRoute reads an HTTPRoute of the harness namespace.
func (h *harness) httpRoute(t *testing.T, name string) *gatewayv1.HTTPRoute {
	t.Helper()
	r, err := h.gw.GatewayV1().HTTPRoutes(h.env.Namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get HTTPRoute %s: %v", name, err)
	}
	return r
}

// rulesJSON returns the JSON of the rules of a route as the API server stores them, except
// those whose name is in skip (unnamed rules are skipped when skip has "").
func (h *harness) rulesJSON(t *testing.T, kind, name string, skip ...string) string {
	t.Helper()
	obj, err := h.resource(t, kind, "").Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rules, _, err := unstructured.NestedSlice(obj.Object, "spec", "rules")
	if err != nil {
		t.Fatal(err)
	}
	var keep []any
	for _, r := range rules {
		n, _, _ := unstructured.NestedString(r.(map[string]any), "name")
		skipped := false
		for _, s := range skip {
			skipped = skipped || s == n
		}
		if !skipped {
			keep = append(keep, r)
		}
	}
	b, err := json.Marshal(keep)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// accept plays the Gateway: it writes status.parents with Accepted=True and ResolvedRefs=True
// for the route's current generation, and returns that generation.
func (h *harness) accept(t *testing.T, kind, name string) int64 {
	t.Helper()
	gen, err := framework.AcceptRoute(t.Context(), h.resource(t, kind, ""), name)
	if err != nil {
		t.Fatalf("accept %s %s: %v", kind, name, err)
	}
	return gen
}

// keepAccepting plays a Gateway that accepts every new generation of a route.
func (h *harness) keepAccepting(t *testing.T, kind, name string) {
	t.Helper()
	framework.KeepAccepting(t, h.resource(t, kind, ""), name)
}

// weights returns the weight of each named backendRef of rule i of an HTTPRoute ("nil" for an
// unset weight).
func weights(r *gatewayv1.HTTPRoute, i int) map[string]string {
	out := map[string]string{}
	for _, b := range r.Spec.Rules[i].BackendRefs {
		w := "nil"
		if b.Weight != nil {
			w = fmt.Sprint(*b.Weight)
		}
		out[string(b.Name)] = w
	}
	return out
}

// mustVerify asserts VerifyWeight's answer.
func mustVerify(t *testing.T, r plugins.TrafficRouter, ro *v1alpha1.Rollout, w int32, want plugins.RpcVerified) {
	t.Helper()
	got, err := r.VerifyWeight(t.Context(), ro, w, nil)
	if err != nil || got != want {
		t.Fatalf("VerifyWeight(%d) = %v, %v; want %v", w, got, err, want)
	}
}
