//go:build e2e

package mllp

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
)

const shadowIP = "10.244.77.9"

func shadowService(ns string, flagged bool) string {
	labels := "{}"
	if flagged {
		labels = "{mllp.nerve.io/shadow: \"true\"}"
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: mllp-shadow, namespace: %s, labels: %s}
spec:
  ports: [{name: mllp, port: 2575, targetPort: 2575}]
`, ns, labels)
}

// TestShadowMirrorNeedsLabel: the proxy refuses to mirror to a Service not
// labelled mllp.nerve.io/shadow=true (Ready=false in its status entry) and
// mirrors once the label is there.
func TestShadowMirrorNeedsLabel(t *testing.T) {
	env := framework.New(t)
	installCRD(t, env)
	stable, shadow := backend(t, "stable"), backend(t, "shadow")
	env.Apply(t, services(env.Namespace))
	env.Apply(t, shadowService(env.Namespace, false))
	env.Apply(t, slice(env.Namespace, "mllp-stable", stableIP))
	env.Apply(t, slice(env.Namespace, "mllp-shadow", shadowIP))
	env.Apply(t, routeYAML(env.Namespace, 0)+"  mirror: {percentage: 100, shadowService: mllp-shadow}\n")

	listen := "127.0.0.1:" + strconv.Itoa(framework.FreePort(t))
	amap := fmt.Sprintf("%s:%d=%s,%s:%d=%s", stableIP, podPort, stable.Addr(), shadowIP, podPort, shadow.Addr())
	framework.StartProcess(t, framework.Binary(t, "nerve-mllp-proxy"), []string{
		"--kubeconfig", os.Getenv("KUBECONFIG"), "--namespace", env.Namespace, "--route", route,
		"--listen", listen, "--metrics-addr", "", "--address-map-flag", amap, "--replica-name", replica,
	}, nil)
	framework.Eventually(t, 15*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		r, err := getRoute(ctx, env)
		if err != nil || len(r.Status.Replicas) != 1 {
			return false, fmt.Errorf("route %v err %v", r, err)
		}
		e := r.Status.Replicas[0]
		if e.Ready || !strings.Contains(e.Message, "not flagged shadow") {
			return false, fmt.Errorf("entry %+v", e)
		}
		return true, nil
	}, "Ready=false with the refusal")
	send := func(n int) {
		t.Helper()
		res, err := mllptest.RunSenders(t.Context(), mllptest.SenderOptions{Addr: listen, Messages: n,
			Gen: mllptest.GenOptions{Seed: uint64(n)}})
		if err != nil || res.Acked != int64(n) {
			t.Fatalf("send: %v", err)
		}
	}
	send(20)
	if shadow.Count() != 0 {
		t.Fatalf("mirrored %d messages to a Service not flagged shadow", shadow.Count())
	}
	env.Apply(t, shadowService(env.Namespace, true))
	waitApplied(t, env, 0)
	framework.Eventually(t, 10*time.Second, 50*time.Millisecond, func(context.Context) (bool, error) {
		send(5)
		return shadow.Count() > 0, nil
	}, "mirrored copies after labelling the shadow Service")
	if stable.Count() < 25 {
		t.Fatalf("stable got %d", stable.Count())
	}
}
