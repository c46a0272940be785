package rollout

import (
	"context"
	"fmt"
	"sort"
	"time"

	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// VerifyRetryInterval is the requeue delay after an unverified weight (Argo's default 10s is
// long for a plugin that verifies quickly; nerve retries sooner).
const VerifyRetryInterval = 2 * time.Second

// routerNames lists trafficRouting.plugins keys in a stable order.
func routerNames(ro *v1alpha1.Rollout) []string {
	c := ro.Spec.Strategy.Canary
	if c == nil || c.TrafficRouting == nil {
		return nil
	}
	names := make([]string, 0, len(c.TrafficRouting.Plugins))
	for n := range c.TrafficRouting.Plugins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// trafficPlan is what one reconcile asks of every router.
type trafficPlan struct {
	weight       int32
	removeRoutes bool
	verify       bool
	headerRoute  *v1alpha1.SetHeaderRoute
	mirrorRoute  *v1alpha1.SetMirrorRoute
}

// planTraffic computes the desired weight and calls, following Argo's reconcileTrafficRouting.
func (rc *rolloutCtx) planTraffic() trafficPlan {
	ro := rc.ro
	maxW := canary.MaxWeight(ro)
	step, idx := canary.CurrentStep(ro)
	switch {
	case rc.fullyPromoted():
		return trafficPlan{weight: 0, removeRoutes: true}
	case ro.Status.Abort:
		w := int32(0)
		if ro.Spec.Strategy.Canary.DynamicStableScale {
			w = rc.abortWeight()
		}
		return trafficPlan{weight: w, removeRoutes: true}
	case rc.newRS == nil || rc.newRS.Status.AvailableReplicas == 0:
		return trafficPlan{weight: 0, removeRoutes: true}
	case ro.Status.PromoteFull:
		// the weight moves only with canary capacity (dynamicStableScale) or stays where it is;
		// the switch of the stable at promotion moves all traffic.
		// (never below the last setWeight already passed, should the recorded weight be stale)
		w := max(weightOf(ro.Status.Canary.Weights), passedWeight(ro, idx))
		if ro.Spec.Strategy.Canary.DynamicStableScale {
			w = maxW * rc.newRS.Status.AvailableReplicas / canary.Replicas(ro)
		}
		return trafficPlan{weight: w, removeRoutes: true}
	}
	p := trafficPlan{weight: maxW, verify: true}
	if idx == nil {
		return p
	}
	steps := canary.Steps(ro)
	switch {
	case !canary.AtDesiredCounts(ro, rc.newRS, rc.stableRS, rc.others, ro.Status.Canary.Weights):
		p.weight = 0
		for i := *idx - 1; i >= 0; i-- {
			if w := steps[i].SetWeight; w != nil {
				p.weight = *w
				break
			}
		}
	case int(*idx) != len(steps):
		p.weight = canary.CurrentSetWeight(ro)
	}
	if step != nil && revisionOf(ro) > 1 {
		p.headerRoute, p.mirrorRoute = step.SetHeaderRoute, step.SetMirrorRoute
	}
	p.verify = step == nil || step.SetWeight != nil
	return p
}

// passedWeight is the weight of the last setWeight step before the current one.
func passedWeight(ro *v1alpha1.Rollout, idx *int32) int32 {
	if idx == nil {
		return 0
	}
	steps := canary.Steps(ro)
	for i := min(int(*idx), len(steps)) - 1; i >= 0; i-- {
		if w := steps[i].SetWeight; w != nil {
			return *w
		}
	}
	return 0
}

// abortWeight is the canary weight after an abort with dynamicStableScale: what the stable's
// available capacity cannot yet absorb.
func (rc *rolloutCtx) abortWeight() int32 {
	if rc.stableRS == nil {
		return 0
	}
	total, maxW := canary.Replicas(rc.ro), canary.MaxWeight(rc.ro)
	if total == 0 {
		return 0
	}
	avail := min(rc.stableRS.Status.AvailableReplicas, total)
	return maxW - int32(float64(avail)/float64(total)*float64(maxW))
}

// reconcileTraffic drives every router plugin, in Argo's order: header/mirror route of the
// current step, UpdateHash, SetWeight, VerifyWeight. Weights are written to the new status.
func (rc *rolloutCtx) reconcileTraffic(ctx context.Context) error {
	names := routerNames(rc.ro)
	if len(names) == 0 {
		return nil
	}
	plan := rc.planTraffic()
	if !rc.stableHasCapacity(plan.weight) {
		klog.FromContext(ctx).V(2).Info("stable lacks capacity for weight; not changing traffic", "weight", plan.weight)
		rc.requeueAfter(time.Second)
		return nil
	}
	canaryHash, stableHash := rsHash(rc.newRS), rc.ro.Status.StableRS
	if stableHash == "" {
		stableHash = canaryHash
	}
	verified := true
	for _, name := range names {
		ok, err := rc.driveRouter(ctx, name, plan, canaryHash, stableHash)
		if err != nil {
			return err
		}
		verified = verified && ok
	}
	rc.recordWeights(plan, canaryHash, stableHash, verified)
	return nil
}

func (rc *rolloutCtx) stableHasCapacity(weight int32) bool {
	if rc.stableRS == nil || !canary.StableDistinct(rc.newRS, rc.stableRS) || !rc.ro.Spec.Strategy.Canary.DynamicStableScale {
		return true
	}
	need := canary.WeightToReplicas(canary.Replicas(rc.ro), canary.MaxWeight(rc.ro)-weight, canary.MaxWeight(rc.ro))
	return rc.stableRS.Status.AvailableReplicas >= need || rc.ro.Status.Abort
}

func (rc *rolloutCtx) driveRouter(ctx context.Context, name string, plan trafficPlan, canaryHash, stableHash string) (bool, error) {
	r, err := rc.c.plugins.TrafficRouter(ctx, name)
	if err != nil {
		rc.event("Warning", "TrafficRoutingError", "failed to get traffic router plugin %s: %v", name, err)
		return false, fmt.Errorf("failed to get traffic router plugin %s: %w", name, err)
	}
	if typ, err := r.Type(ctx); err == nil {
		klog.FromContext(ctx).V(4).Info("reconciling traffic router", "plugin", name, "type", typ, "weight", plan.weight)
	}
	ro := rc.routerView()
	if plan.removeRoutes {
		if err := r.RemoveManagedRoutes(ctx, ro); err != nil {
			return false, rc.routerErr(name, "failed to remove managed routes", err)
		}
	}
	if plan.headerRoute != nil {
		if err := r.SetHeaderRoute(ctx, ro, plan.headerRoute); err != nil {
			return false, rc.routerErr(name, "failed to set header route", err)
		}
	}
	if plan.mirrorRoute != nil {
		if err := r.SetMirrorRoute(ctx, ro, plan.mirrorRoute); err != nil {
			return false, rc.routerErr(name, "failed to set mirror route", err)
		}
	}
	if err := r.UpdateHash(ctx, ro, canaryHash, stableHash, nil); err != nil {
		return false, rc.routerErr(name, "failed to update hash", err)
	}
	if err := r.SetWeight(ctx, ro, plan.weight, nil); err != nil {
		return false, rc.routerErr(name, "failed to set weight", err)
	}
	if !plan.verify {
		return true, nil
	}
	v, err := r.VerifyWeight(ctx, ro, plan.weight, nil)
	if err != nil {
		rc.event("Warning", "WeightVerifyError", "Failed to verify weight: %v", err)
		return true, nil
	}
	if v == plugins.NotVerified {
		rc.requeueAfter(VerifyRetryInterval)
		return false, nil
	}
	return true, nil
}

func (rc *rolloutCtx) routerErr(name, what string, err error) error {
	rc.event("Warning", "TrafficRoutingError", "%s via plugin %s: %v", what, name, err)
	return fmt.Errorf("%s via plugin %s: %w", what, name, err)
}

// routerView is the Rollout sent to routers: the stored object with the status written so far,
// so that plugins see status.canary.weights as Argo sends it.
func (rc *rolloutCtx) routerView() *v1alpha1.Rollout {
	ro := rc.ro.DeepCopy()
	ro.Status.CurrentPodHash = rc.status.CurrentPodHash
	return ro
}

func (rc *rolloutCtx) recordWeights(plan trafficPlan, canaryHash, stableHash string, verified bool) {
	c := rc.ro.Spec.Strategy.Canary
	maxW := canary.MaxWeight(rc.ro)
	w := &v1alpha1.TrafficWeights{
		Canary: v1alpha1.WeightDestination{Weight: plan.weight, ServiceName: c.CanaryService, PodTemplateHash: canaryHash},
		Stable: v1alpha1.WeightDestination{Weight: maxW - plan.weight, ServiceName: c.StableService, PodTemplateHash: stableHash},
	}
	if plan.verify {
		w.Verified = ptr.To(verified)
	}
	old := rc.ro.Status.Canary.Weights
	if old == nil || old.Canary.Weight != w.Canary.Weight {
		rc.event("Normal", "TrafficWeightUpdated", "Traffic weight updated from %d to %d", weightOf(old), plan.weight)
	}
	rc.status.Canary.Weights = w
}

func weightOf(w *v1alpha1.TrafficWeights) int32 {
	if w == nil {
		return 0
	}
	return w.Canary.Weight
}
