package mllp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

// Verdict explains a VerifyWeight answer.
type Verdict struct {
	Verified bool
	// Lagging names the fresh replicas that do not report the weight at the current generation.
	Lagging []string
	// Message is a one-line summary (no PHI: replica names, generations and weights only).
	Message string
}

// Judge decides whether weight w is applied on the route at now.
func Judge(route *api.MLLPRoute, w int32, now time.Time) Verdict {
	fresh := route.Status.FreshReplicas(now)
	key := route.Namespace + "/" + route.Name
	if api.Applied(route, w, now) && route.Spec.Weight == w {
		names := make([]string, 0, len(fresh))
		for _, f := range fresh {
			names = append(names, f.Name)
		}
		return Verdict{Verified: true, Message: fmt.Sprintf("weight %d applied at generation %d by %d live replica(s): %s",
			w, route.Generation, len(fresh), strings.Join(names, ", "))}
	}
	v := Verdict{}
	var parts []string
	if route.Spec.Weight != w {
		parts = append(parts, fmt.Sprintf("spec.weight is %d, not %d", route.Spec.Weight, w))
	}
	if len(fresh) == 0 {
		parts = append(parts, "no live proxy replica (no status entry with a heartbeat newer than "+api.HeartbeatFreshness.String()+")")
	}
	var lag []string
	for _, f := range fresh {
		if f.ObservedGeneration < route.Generation || f.Weight != w {
			v.Lagging = append(v.Lagging, f.Name)
			lag = append(lag, fmt.Sprintf("%s (generation %d of %d, weight %d)", f.Name, f.ObservedGeneration, route.Generation, f.Weight))
		}
	}
	if len(lag) > 0 {
		parts = append(parts, "lagging replicas: "+strings.Join(lag, "; "))
	}
	v.Message = fmt.Sprintf("weight %d not verified on MLLPRoute %s: %s", w, key, strings.Join(parts, "; "))
	return v
}

// VerifyWeight answers Verified only when every live proxy replica applies weight w at the
// route's current generation; it waits up to the config's verifyTimeout for that.
func (r *Router) VerifyWeight(ctx context.Context, ro *v1alpha1.Rollout, w int32, _ []v1alpha1.WeightDestination) (plugins.RpcVerified, error) {
	t, d, err := r.setup(ro)
	if err != nil {
		return plugins.NotVerified, err
	}
	deadline := r.opts.Now().Add(t.verifyWait)
	for {
		route, err := getRoute(ctx, d, t)
		if err != nil {
			return plugins.NotVerified, fmt.Errorf("VerifyWeight: %w", err)
		}
		v := Judge(route, w, r.opts.Now())
		if v.Verified || !r.opts.Now().Before(deadline) {
			r.record(ctx, t, route, v)
			if v.Verified {
				return plugins.Verified, nil
			}
			return plugins.NotVerified, nil
		}
		select {
		case <-ctx.Done():
			return plugins.NotVerified, nil
		case <-time.After(r.opts.PollInterval):
		}
	}
}

// record logs the verdict and writes it to the route's VerifyAnnotation when it changed.
func (r *Router) record(ctx context.Context, t target, route *api.MLLPRoute, v Verdict) {
	if v.Verified {
		r.log.Debug("weight verified", "route", t.key(), "message", v.Message)
	} else {
		r.log.Info("weight not verified", "route", t.key(), "lagging", strings.Join(v.Lagging, ","), "message", v.Message)
	}
	msg := v.Message
	if route.Annotations[VerifyAnnotation] == msg {
		return
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{VerifyAnnotation: msg}}})
	if err != nil {
		return
	}
	d, err := r.client()
	if err != nil {
		return
	}
	if _, err := d.Resource(api.GroupVersionResource()).Namespace(t.Namespace).Patch(ctx, t.Route, types.MergePatchType, patch,
		metav1.PatchOptions{FieldManager: "nerve-mllp-router"}); err != nil {
		r.log.Warn("could not record the verify verdict on the route", "route", t.key(), "error", explain(err, "patch", t))
	}
}
