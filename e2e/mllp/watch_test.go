//go:build e2e

package mllp

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
)

const (
	route   = "mllp-listener"
	replica = "e2e-proxy-0"
	// Fake pod IPs: only ever rewritten to 127.0.0.1 by the address map, never dialled.
	stableIP, canaryIP, newIP = "10.244.77.1", "10.244.77.2", "10.244.77.3"
	podPort                   = 2575
)

func installCRD(t *testing.T, env *framework.Env) {
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

func services(ns string) string {
	svc := `apiVersion: v1
kind: Service
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  ports: [{name: mllp, port: 2575, targetPort: 2575}]
---
`
	return fmt.Sprintf(svc, "mllp-stable", ns) + fmt.Sprintf(svc, "mllp-canary", ns)
}

func slice(ns, svc, ip string) string {
	return fmt.Sprintf(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[2]s-e2e
  namespace: %[1]s
  labels: {kubernetes.io/service-name: %[2]s, endpointslice.kubernetes.io/managed-by: nerve-e2e}
addressType: IPv4
ports: [{name: mllp, port: %[4]d, protocol: TCP}]
endpoints: [{addresses: ["%[3]s"], conditions: {ready: true}}]
`, ns, svc, ip, podPort)
}

func routeYAML(ns string, weight int) string {
	return fmt.Sprintf(`apiVersion: mllp.nerve.io/v1alpha1
kind: MLLPRoute
metadata: {name: %s, namespace: %s}
spec:
  service: mllp-listener
  stableService: mllp-stable
  canaryService: mllp-canary
  port: mllp
  weight: %d
  stickyKey: message
`, route, ns, weight)
}

func getRoute(ctx context.Context, env *framework.Env) (*api.MLLPRoute, error) {
	u, err := env.Dynamic.Resource(api.GroupVersionResource()).Namespace(env.Namespace).Get(ctx, route, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return api.FromUnstructured(u)
}

func backend(t *testing.T, name string) *mllptest.Backend {
	t.Helper()
	b, err := mllptest.NewBackend(mllptest.BackendOptions{Name: name, Record: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitApplied waits until the replica's fresh status entry reports weight at the route's generation.
func waitApplied(t *testing.T, env *framework.Env, weight int32) {
	t.Helper()
	framework.Eventually(t, 15*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		r, err := getRoute(ctx, env)
		if err != nil {
			return false, err
		}
		if api.Applied(r, weight, time.Now()) {
			return true, nil
		}
		return false, fmt.Errorf("status %+v generation %d", r.Status, r.Generation)
	}, "replica status reports weight %d", weight)
}

func TestWatchMode(t *testing.T) {
	env := framework.New(t)
	installCRD(t, env)
	stable, canary, next := backend(t, "stable"), backend(t, "canary"), backend(t, "stable-new")
	env.Apply(t, services(env.Namespace))
	env.Apply(t, slice(env.Namespace, "mllp-stable", stableIP))
	env.Apply(t, slice(env.Namespace, "mllp-canary", canaryIP))
	env.Apply(t, routeYAML(env.Namespace, 0))

	listen := "127.0.0.1:" + strconv.Itoa(framework.FreePort(t))
	metrics := "127.0.0.1:" + strconv.Itoa(framework.FreePort(t))
	amap := fmt.Sprintf("%s:%d=%s,%s:%d=%s,%s:%d=%s", stableIP, podPort, stable.Addr(), canaryIP, podPort, canary.Addr(),
		newIP, podPort, next.Addr())
	proc := framework.StartProcess(t, framework.Binary(t, "nerve-mllp-proxy"), []string{
		"--kubeconfig", os.Getenv("KUBECONFIG"), "--namespace", env.Namespace, "--route", route,
		"--listen", listen, "--metrics-addr", metrics, "--address-map-flag", amap, "--replica-name", replica,
		"--ack-timeout", "5s", "--drain-timeout", "5s",
	}, nil)
	waitApplied(t, env, 0)
	framework.RegisterScrapeTarget(t, "nerve-mllp-proxy-e2e", metrics, map[string]string{"namespace": env.Namespace})

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var res *mllptest.Result
	wg.Go(func() {
		res, _ = mllptest.RunSenders(ctx, mllptest.SenderOptions{Addr: listen, Senders: 2, Reconnect: true,
			Gen: mllptest.GenOptions{Seed: 3, Patients: 500}})
	})
	t.Cleanup(func() { cancel(); wg.Wait() })

	framework.Eventually(t, 10*time.Second, 50*time.Millisecond, func(context.Context) (bool, error) {
		return stable.Count() > 200, nil
	}, "traffic to stable")
	if canary.Count() != 0 {
		t.Fatalf("weight 0 sent %d messages to the canary", canary.Count())
	}

	t.Run("weight change moves traffic within 1s", func(t *testing.T) {
		env.Apply(t, routeYAML(env.Namespace, 50))
		before := canary.Count()
		framework.Eventually(t, time.Second, 10*time.Millisecond, func(context.Context) (bool, error) {
			return canary.Count() > before+20, nil
		}, "canary traffic after weight 50")
		waitApplied(t, env, 50)
		var e api.ReplicaStatus
		framework.Eventually(t, 3*api.HeartbeatInterval, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
			r, err := getRoute(ctx, env)
			if err != nil || len(r.Status.Replicas) != 1 {
				return false, fmt.Errorf("route %v err %v", r, err)
			}
			e = r.Status.Replicas[0]
			if e.Name != replica || !e.Ready || !e.Fresh(time.Now()) || e.ObservedGeneration != r.Generation ||
				e.CanaryMessages == 0 || e.StableMessages == 0 || e.StableEndpoints != 1 || e.CanaryEndpoints != 1 {
				return false, fmt.Errorf("replica status %+v (generation %d)", e, r.Generation)
			}
			return true, nil
		}, "a heartbeat with canary counts")
		t.Logf("status: stable %d canary %d messages since start", e.StableMessages, e.CanaryMessages)
	})

	t.Run("heartbeat advances", func(t *testing.T) {
		r, err := getRoute(t.Context(), env)
		if err != nil {
			t.Fatal(err)
		}
		first := r.Status.Replicas[0].HeartbeatTime
		framework.Eventually(t, 3*api.HeartbeatInterval, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
			r, err := getRoute(ctx, env)
			if err != nil {
				return false, err
			}
			return r.Status.Replicas[0].HeartbeatTime.After(first.Time), nil
		}, "a newer heartbeat")
	})

	t.Run("stable EndpointSlice change moves traffic to the new pods", func(t *testing.T) {
		env.Apply(t, slice(env.Namespace, "mllp-stable", newIP))
		framework.Eventually(t, 5*time.Second, 20*time.Millisecond, func(context.Context) (bool, error) {
			return next.Count() > 50, nil
		}, "traffic to the new stable pod")
		old := stable.Count()
		time.Sleep(300 * time.Millisecond)
		if d := stable.Count() - old; d > 2 {
			t.Fatalf("old stable pod still got %d messages after leaving the EndpointSlice", d)
		}
	})

	t.Run("seed queries return numbers", func(t *testing.T) {
		prom := framework.PrometheusURL(t)
		sel := fmt.Sprintf(`service="mllp-listener",namespace=%q`, env.Namespace)
		queries := []string{
			fmt.Sprintf(`histogram_quantile(0.99, sum(rate(mllp_ack_latency_seconds_bucket{%s}[5m])) by (le))`, sel),
			fmt.Sprintf(`sum(rate(mllp_errors_total{%s}[5m])) / sum(rate(mllp_messages_received_total{%s}[5m]))`, sel, sel),
		}
		for _, q := range queries {
			framework.Eventually(t, 60*time.Second, time.Second, func(ctx context.Context) (bool, error) {
				s, err := framework.PromQuery(ctx, prom, q)
				if err != nil || len(s) != 1 {
					return false, fmt.Errorf("samples %v err %v", s, err)
				}
				if math.IsNaN(s[0].Value) {
					return false, fmt.Errorf("value %v", s[0].Value)
				}
				return true, nil
			}, "query %s", q)
		}
	})

	t.Run("SIGTERM drains and removes the status entry", func(t *testing.T) {
		cancel()
		wg.Wait()
		if res == nil || res.Acked == 0 {
			t.Fatal("no messages acked")
		}
		if err := proc.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(t.Context(), 15*time.Second)
		defer wcancel()
		if err := proc.WaitContext(wctx); err != nil {
			t.Fatalf("proxy exit: %v", err)
		}
		seen := map[string]bool{}
		for _, b := range []*mllptest.Backend{stable, canary, next} {
			for _, r := range b.Records() {
				seen[r.ControlID] = true
			}
		}
		for _, id := range res.AckedIDs {
			if !seen[id] {
				t.Fatalf("message %s ACKed but received by no backend", id)
			}
		}
		r, err := getRoute(t.Context(), env)
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		if len(r.Status.Replicas) != 0 {
			t.Fatalf("status entry left after clean shutdown: %+v", r.Status.Replicas)
		}
		t.Logf("senders: sent %d acked %d errors %d", res.Sent, res.Acked, res.Errors)
	})
}
