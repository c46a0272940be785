//go:build e2e

package framework

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

// GatewayController is the controllerName the tests write when they play a Gateway (no Gateway
// implementation runs on the local control plane).
const GatewayController = "example.org/e2e-gateway"

// AcceptRoute plays the Gateway for one Gateway API route: it writes status.parents (parent
// Gateway "gw") with Accepted=True and ResolvedRefs=True for the route's current generation, and
// returns that generation.
func AcceptRoute(ctx context.Context, ri dynamic.ResourceInterface, name string) (int64, error) {
	obj, err := ri.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return 0, err
	}
	gen := obj.GetGeneration()
	now := time.Now().UTC().Format(time.RFC3339)
	cond := func(typ string) map[string]any {
		return map[string]any{"type": typ, "status": "True", "reason": typ, "message": "accepted by the e2e test", "observedGeneration": gen, "lastTransitionTime": now}
	}
	parents := []any{map[string]any{
		"parentRef":      map[string]any{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gw"},
		"controllerName": GatewayController,
		"conditions":     []any{cond("Accepted"), cond("ResolvedRefs")},
	}}
	if err := unstructured.SetNestedSlice(obj.Object, parents, "status", "parents"); err != nil {
		return 0, err
	}
	_, err = ri.UpdateStatus(ctx, obj, metav1.UpdateOptions{})
	return gen, err
}

// KeepAccepting plays a Gateway that accepts every new generation of a route within
// milliseconds (by watching it), until the test ends.
func KeepAccepting(t testing.TB, ri dynamic.ResourceInterface, name string) {
	t.Helper()
	WatchNamed(t, ri, name, func(ctx context.Context, obj *unstructured.Unstructured) {
		if ObservedGeneration(obj) != obj.GetGeneration() {
			_, _ = AcceptRoute(ctx, ri, name)
		}
	})
}

// WatchNamed calls f with every version of the named object (the current one first) until the
// test ends, re-watching when the API server closes the watch.
func WatchNamed(t testing.TB, ri dynamic.ResourceInterface, name string, f func(context.Context, *unstructured.Unstructured)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			w, err := ri.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
			if err != nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			for ev := range w.ResultChan() {
				if obj, ok := ev.Object.(*unstructured.Unstructured); ok {
					f(ctx, obj)
				}
			}
			w.Stop()
		}
	}()
}

// ObservedGeneration returns the observedGeneration of a route's first parent's first
// condition (0 if none).
func ObservedGeneration(obj *unstructured.Unstructured) int64 {
	parents, _, _ := unstructured.NestedSlice(obj.Object, "status", "parents")
	if len(parents) == 0 {
		return 0
	}
	conds, _, _ := unstructured.NestedSlice(parents[0].(map[string]any), "conditions")
	if len(conds) == 0 {
		return 0
	}
	g, _, _ := unstructured.NestedInt64(conds[0].(map[string]any), "observedGeneration")
	return g
}
