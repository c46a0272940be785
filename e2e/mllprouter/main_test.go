//go:build e2e

// Package mllprouter is the e2e test of the nerve-mllp traffic-router plugin: the real plugin
// binary over the real go-plugin wire (through nerve's plugin host and nerve-conformance)
// driving an MLLPRoute on the local control plane, followed by two real nerve-mllp-proxy
// processes (watch mode) that carry generated HL7 traffic on loopback to mllptest backends.
// Services get hand-made EndpointSlices with fake pod IPs that the proxies' address map
// rewrites to the 127.0.0.1 backends; nothing dials a 10.x address.
package mllprouter

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/router/mllp"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
)

func TestMain(m *testing.M) { framework.Main(m) }

const (
	pluginBinary = "nerve-mllp"
	podPort      = 2575
)

// site is one namespace's route, Services, backends and proxies.
type site struct {
	env            *framework.Env
	dyn            dynamic.Interface // unthrottled enough for tight status polls
	route          string
	stable, canary *mllptest.Backend
	amap           string
}

func installCRD(t testing.TB, env *framework.Env) {
	t.Helper()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	env.ApplyFile(t, filepath.Join(root, "manifests", "crds", "mllproutes.yaml"))
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		_, err := env.Dynamic.Resource(api.GroupVersionResource()).Namespace(env.Namespace).List(ctx, metav1.ListOptions{})
		return err == nil, err
	}, "MLLPRoute CRD served")
}

// newSite creates the Services (canary optionally flagged shadow), their EndpointSlices with
// fake pod IPs (ipBase.1 stable, ipBase.2 canary), the route at weight 0 and two backends.
func newSite(t testing.TB, env *framework.Env, route, ipBase string, canaryShadow bool) *site {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 500, 1000
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &site{env: env, dyn: dyn, route: route, stable: backend(t, "stable"), canary: backend(t, "canary")}
	stableIP, canaryIP := ipBase+".1", ipBase+".2"
	shadow := ""
	if canaryShadow {
		shadow = fmt.Sprintf("\n  labels: {%s: \"true\"}", api.ShadowLabel)
	}
	env.Apply(t, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s-stable
spec:
  ports: [{name: mllp, port: %[2]d, targetPort: %[2]d}]
---
apiVersion: v1
kind: Service
metadata:
  name: %[1]s-canary%[3]s
spec:
  ports: [{name: mllp, port: %[2]d, targetPort: %[2]d}]
`, route, podPort, shadow))
	env.Apply(t, slice(route+"-stable", stableIP))
	env.Apply(t, slice(route+"-canary", canaryIP))
	env.Apply(t, fmt.Sprintf(`apiVersion: mllp.nerve.io/v1alpha1
kind: MLLPRoute
metadata: {name: %[1]s}
spec:
  service: %[1]s
  stableService: %[1]s-stable
  canaryService: %[1]s-canary
  port: mllp
  weight: 0
  stickyKey: pid3
`, route))
	s.amap = fmt.Sprintf("%s:%d=%s,%s:%d=%s", stableIP, podPort, s.stable.Addr(), canaryIP, podPort, s.canary.Addr())
	return s
}

func slice(svc, ip string) string {
	return fmt.Sprintf(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-e2e
  labels: {kubernetes.io/service-name: %[1]s, endpointslice.kubernetes.io/managed-by: nerve-e2e}
addressType: IPv4
ports: [{name: mllp, port: %[3]d, protocol: TCP}]
endpoints: [{addresses: ["%[2]s"], conditions: {ready: true}}]
`, svc, ip, podPort)
}

func backend(t testing.TB, name string) *mllptest.Backend {
	t.Helper()
	// A 2 ms ACK delay paces the closed-loop senders (about 400 messages/s each), so that
	// traffic does not starve the API server and the proxies of CPU on a small machine.
	b, err := mllptest.NewBackend(mllptest.BackendOptions{Name: name, Record: true, Delay: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// proxy is one nerve-mllp-proxy process in watch mode.
type proxy struct {
	name, listen string
	metrics      string // /metrics, /route
	proc         *framework.Process
}

func (s *site) startProxy(t testing.TB, name string) *proxy {
	t.Helper()
	listen := "127.0.0.1:" + strconv.Itoa(framework.FreePort(t))
	metrics := "127.0.0.1:" + strconv.Itoa(framework.FreePort(t))
	proc := framework.StartProcess(t, framework.Binary(t, "nerve-mllp-proxy"), []string{
		"--kubeconfig", os.Getenv("KUBECONFIG"), "--namespace", s.env.Namespace, "--route", s.route,
		"--listen", listen, "--metrics-addr", metrics, "--address-map-flag", s.amap, "--replica-name", name,
		"--ack-timeout", "5s", "--drain-timeout", "2s",
	}, nil)
	return &proxy{name: name, listen: listen, metrics: metrics, proc: proc}
}

func (s *site) getRoute(ctx context.Context) (*api.MLLPRoute, error) {
	u, err := s.dyn.Resource(api.GroupVersionResource()).Namespace(s.env.Namespace).Get(ctx, s.route, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return api.FromUnstructured(u)
}

// waitReplicas waits until n fresh replicas report weight w at the current generation.
func (s *site) waitReplicas(t testing.TB, n int, w int32) {
	t.Helper()
	framework.Eventually(t, 20*time.Second, 50*time.Millisecond, func(ctx context.Context) (bool, error) {
		r, err := s.getRoute(ctx)
		if err != nil {
			return false, err
		}
		if api.Applied(r, w, time.Now()) && len(r.Status.FreshReplicas(time.Now())) == n {
			return true, nil
		}
		return false, fmt.Errorf("generation %d status %+v", r.Generation, r.Status)
	}, "%d replicas apply weight %d", n, w)
}

// annotation returns the router's verify verdict recorded on the route.
func (s *site) annotation(t testing.TB) string {
	t.Helper()
	r, err := s.getRoute(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return r.Annotations[mllp.VerifyAnnotation]
}

// rollout returns the Rollout the controller would send for the site's route.
func (s *site) rollout(cfg map[string]any) *v1alpha1.Rollout {
	if cfg == nil {
		cfg = map[string]any{}
	}
	cfg["route"] = s.route
	raw, _ := json.Marshal(cfg)
	ro := &v1alpha1.Rollout{}
	ro.Name, ro.Namespace = s.route, s.env.Namespace
	ro.Spec.Strategy.Canary = &v1alpha1.CanaryStrategy{StableService: s.route + "-stable", CanaryService: s.route + "-canary",
		TrafficRouting: &v1alpha1.RolloutTrafficRouting{
			Plugins:       map[string]json.RawMessage{mllp.DefaultPluginName: raw},
			ManagedRoutes: []v1alpha1.MangedRoutes{{Name: "oru-first"}, {Name: "shadow"}},
		}}
	return ro
}

// verify calls VerifyWeight once.
func verify(t *testing.T, r plugins.TrafficRouter, ro *v1alpha1.Rollout, w int32) plugins.RpcVerified {
	t.Helper()
	v, err := r.VerifyWeight(t.Context(), ro, w, nil)
	if err != nil {
		t.Fatalf("VerifyWeight(%d): %v", w, err)
	}
	return v
}

// untilVerified repeats VerifyWeight (as the controller's requeue does) until Verified.
func untilVerified(t *testing.T, r plugins.TrafficRouter, ro *v1alpha1.Rollout, w int32, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	framework.Eventually(t, timeout, 20*time.Millisecond, func(ctx context.Context) (bool, error) {
		v, err := r.VerifyWeight(ctx, ro, w, nil)
		return v == plugins.Verified, err
	}, "VerifyWeight(%d) Verified", w)
	return time.Since(start)
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
