package gatewayapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// fieldManager names nerve in the routes' managedFields.
const fieldManager = "nerve-gatewayapi"

// maxPatchAttempts bounds the read-plan-patch loop when the route changes under us; between
// attempts it backs off from firstBackoff, doubling up to maxBackoff, with jitter.
const (
	maxPatchAttempts = 10
	firstBackoff     = 10 * time.Millisecond
	maxBackoff       = 500 * time.Millisecond
)

// patchOp is one RFC 6902 JSON patch operation.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// jsonPointerEscape escapes one JSON pointer token (RFC 6901).
func jsonPointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func rulePath(i int) string { return "/spec/rules/" + strconv.Itoa(i) }

func backendPath(rule, ref int) string {
	return rulePath(rule) + "/backendRefs/" + strconv.Itoa(ref)
}

// planner computes the operations that bring a route to the desired state; no operations
// means the route is already there.
type planner func(r *route) ([]patchOp, error)

// reconcileRoute reads the route, plans, and sends the plan as one JSON patch. Every operation on
// an existing rule or backendRef is preceded by a test of that element's name, so the patch
// applies only while the indexes still mean what the plan read, whatever else others write (a
// Gateway's status, labels, unrelated rules). A plan that appends (rules, backendRefs, the labels
// map) also tests metadata.resourceVersion, so that two writers never append the same element.
// When the route moved in between, it re-reads and re-plans. It reports whether it wrote.
func reconcileRoute(ctx context.Context, gw *Clients, t target, plan planner) (bool, error) {
	var lastErr error
	for attempt := 0; attempt < maxPatchAttempts; attempt++ {
		r, err := getRoute(ctx, gw, t)
		if err != nil {
			return false, err
		}
		ops, err := plan(r)
		if err != nil || len(ops) == 0 {
			return false, err
		}
		body, err := encodePatch(r.meta.ResourceVersion, ops)
		if err != nil {
			return false, err
		}
		err = patchRoute(ctx, gw, t, body)
		if err == nil {
			return true, nil
		}
		if !apierrors.IsConflict(err) && !isPatchTestFailure(err) {
			return false, describeAPIError(err, "patch", t)
		}
		moved, gerr := routeMoved(ctx, gw, t, r.meta.ResourceVersion)
		if gerr != nil {
			return false, gerr
		}
		if !moved {
			return false, fmt.Errorf("patch %s rejected: %w", t, err)
		}
		lastErr = err
		if err := sleepBackoff(ctx, attempt); err != nil {
			return false, err
		}
	}
	return false, fmt.Errorf("patch %s: still conflicting after %d attempts: %w", t, maxPatchAttempts, lastErr)
}

// sleepBackoff waits before attempt+1: firstBackoff·2^attempt (at most maxBackoff), plus up to
// half of that again at random so that competing writers spread out.
func sleepBackoff(ctx context.Context, attempt int) error {
	d := firstBackoff << min(attempt, 6)
	d = min(d, maxBackoff)
	d += rand.N(d/2 + 1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// routeMoved reports whether the route's resourceVersion is no longer rv.
func routeMoved(ctx context.Context, gw *Clients, t target, rv string) (bool, error) {
	r, err := getRoute(ctx, gw, t)
	if err != nil {
		return false, err
	}
	return r.meta.ResourceVersion != rv, nil
}

// encodePatch prefixes ops with a resourceVersion test when rv is known and ops append.
func encodePatch(rv string, ops []patchOp) ([]byte, error) {
	all := make([]patchOp, 0, len(ops)+1)
	if rv != "" && appends(ops) {
		all = append(all, patchOp{Op: "test", Path: "/metadata/resourceVersion", Value: rv})
	}
	all = append(all, ops...)
	return json.Marshal(all)
}

// appends reports whether ops add new elements (whose absence JSON patch cannot test).
func appends(ops []patchOp) bool {
	for _, op := range ops {
		if op.Op == "add" && (strings.HasSuffix(op.Path, "/-") || op.Path == "/metadata/labels") {
			return true
		}
	}
	return false
}

// labelOps returns the operations that set (value != "") or remove (value == "") one label.
func labelOps(labels map[string]string, key, value string) []patchOp {
	if key == "" {
		return nil
	}
	cur, has := labels[key]
	switch {
	case value == "" && has:
		return []patchOp{{Op: "remove", Path: "/metadata/labels/" + jsonPointerEscape(key)}}
	case value == "" || (has && cur == value):
		return nil
	case labels == nil:
		return []patchOp{{Op: "add", Path: "/metadata/labels", Value: map[string]string{key: value}}}
	default:
		return []patchOp{{Op: "add", Path: "/metadata/labels/" + jsonPointerEscape(key), Value: value}}
	}
}
