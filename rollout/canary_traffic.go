package rollout

import (
	"context"
	"fmt"
	"time"

	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/rollout/canary"
	"github.com/nerve-rollouts/nerve/rollout/rules"
)

// VerifyRetryInterval is the requeue delay after an unverified weight (Argo's default 10s is
// long for a plugin that verifies quickly; nerve retries sooner).
const VerifyRetryInterval = 2 * time.Second

// trafficPlan is what one reconcile asks of every router.
type trafficPlan struct {
	weight       int32
	removeRoutes bool
	verify       bool
	headerRoute  *v1alpha1.SetHeaderRoute
	mirrorRoute  *v1alpha1.SetMirrorRoute
}

// planTraffic computes the desired weight and calls, following Argo's reconcileTrafficRouting.
func (cs *canaryStrategy) planTraffic() trafficPlan {
	ro := cs.ro
	maxW := canary.MaxWeight(ro)
	step, idx := canary.CurrentStep(ro)
	switch {
	case cs.fullyPromoted():
		return trafficPlan{weight: 0, removeRoutes: true}
	case ro.Status.Abort:
		w := int32(0)
		if ro.Spec.Strategy.Canary.DynamicStableScale {
			w = cs.abortWeight()
		}
		return trafficPlan{weight: w, removeRoutes: true}
	case cs.newRS == nil || cs.newRS.Status.AvailableReplicas == 0:
		return trafficPlan{weight: 0, removeRoutes: true}
	case ro.Status.PromoteFull:
		// the weight moves only with canary capacity (dynamicStableScale) or stays where it is;
		// the switch of the stable at promotion moves all traffic.
		// (never below the last setWeight already passed, should the recorded weight be stale)
		w := max(weightOf(ro.Status.Canary.Weights), passedWeight(ro, idx))
		if ro.Spec.Strategy.Canary.DynamicStableScale {
			w = maxW * cs.newRS.Status.AvailableReplicas / canary.Replicas(ro)
		}
		return trafficPlan{weight: w, removeRoutes: true}
	}
	p := trafficPlan{weight: maxW, verify: true}
	if idx == nil {
		return p
	}
	steps := canary.Steps(ro)
	switch {
	case !canary.AtDesiredCounts(ro, cs.newRS, cs.stableRS, cs.others, ro.Status.Canary.Weights):
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
func (cs *canaryStrategy) abortWeight() int32 {
	if cs.stableRS == nil {
		return 0
	}
	total, maxW := canary.Replicas(cs.ro), canary.MaxWeight(cs.ro)
	if total == 0 {
		return 0
	}
	avail := min(cs.stableRS.Status.AvailableReplicas, total)
	return maxW - int32(float64(avail)/float64(total)*float64(maxW))
}

// reconcileTraffic drives every router plugin, in Argo's order: header/mirror route of the
// current step, UpdateHash, SetWeight, VerifyWeight. Weights are written to the new status.
func (cs *canaryStrategy) reconcileTraffic(ctx context.Context) error {
	names := rules.RouterNames(cs.ro)
	if len(names) == 0 {
		return nil
	}
	plan := cs.planTraffic()
	if !cs.stableHasCapacity(plan.weight) {
		klog.FromContext(ctx).V(2).Info("stable lacks capacity for weight; not changing traffic", "weight", plan.weight)
		cs.requeueAfter(time.Second)
		return nil
	}
	canaryHash, stableHash := rsHash(cs.newRS), cs.ro.Status.StableRS
	if stableHash == "" {
		stableHash = canaryHash
	}
	verified := true
	for _, name := range names {
		ok, err := cs.driveRouter(ctx, name, plan, canaryHash, stableHash)
		if err != nil {
			return err
		}
		verified = verified && ok
	}
	cs.recordWeights(plan, canaryHash, stableHash, verified)
	return nil
}

func (cs *canaryStrategy) stableHasCapacity(weight int32) bool {
	if cs.stableRS == nil || !canary.StableDistinct(cs.newRS, cs.stableRS) || !cs.ro.Spec.Strategy.Canary.DynamicStableScale {
		return true
	}
	need := canary.WeightToReplicas(canary.Replicas(cs.ro), canary.MaxWeight(cs.ro)-weight, canary.MaxWeight(cs.ro))
	return cs.stableRS.Status.AvailableReplicas >= need || cs.ro.Status.Abort
}

func (cs *canaryStrategy) driveRouter(ctx context.Context, name string, plan trafficPlan, canaryHash, stableHash string) (bool, error) {
	r, err := cs.c.plugins.TrafficRouter(ctx, name)
	if err != nil {
		cs.event("Warning", "TrafficRoutingError", "failed to get traffic router plugin %s: %v", name, err)
		return false, fmt.Errorf("failed to get traffic router plugin %s: %w", name, err)
	}
	if typ, err := r.Type(ctx); err == nil {
		klog.FromContext(ctx).V(4).Info("reconciling traffic router", "plugin", name, "type", typ, "weight", plan.weight)
	}
	ro := cs.routerView()
	if plan.removeRoutes {
		if err := r.RemoveManagedRoutes(ctx, ro); err != nil {
			return false, cs.routerErr(name, "failed to remove managed routes", err)
		}
	}
	if plan.headerRoute != nil {
		if err := r.SetHeaderRoute(ctx, ro, plan.headerRoute); err != nil {
			return false, cs.routerErr(name, "failed to set header route", err)
		}
	}
	if plan.mirrorRoute != nil {
		if err := r.SetMirrorRoute(ctx, ro, plan.mirrorRoute); err != nil {
			return false, cs.routerErr(name, "failed to set mirror route", err)
		}
	}
	if err := r.UpdateHash(ctx, ro, canaryHash, stableHash, nil); err != nil {
		return false, cs.routerErr(name, "failed to update hash", err)
	}
	if err := r.SetWeight(ctx, ro, plan.weight, nil); err != nil {
		return false, cs.routerErr(name, "failed to set weight", err)
	}
	if !plan.verify {
		return true, nil
	}
	v, err := r.VerifyWeight(ctx, ro, plan.weight, nil)
	if err != nil {
		cs.event("Warning", "WeightVerifyError", "Failed to verify weight: %v", err)
		return true, nil
	}
	if v == plugins.NotVerified {
		cs.requeueAfter(VerifyRetryInterval)
		return false, nil
	}
	return true, nil
}

func (cs *canaryStrategy) routerErr(name, what string, err error) error {
	cs.event("Warning", "TrafficRoutingError", "%s via plugin %s: %v", what, name, err)
	return fmt.Errorf("%s via plugin %s: %w", what, name, err)
}

// routerView is the Rollout sent to routers: the stored object with the status written so far,
// so that plugins see status.canary.weights as Argo sends it.
func (cs *canaryStrategy) routerView() *v1alpha1.Rollout {
	ro := cs.ro.DeepCopy()
	ro.Status.CurrentPodHash = cs.status.CurrentPodHash
	return ro
}

func (cs *canaryStrategy) recordWeights(plan trafficPlan, canaryHash, stableHash string, verified bool) {
	c := cs.ro.Spec.Strategy.Canary
	maxW := canary.MaxWeight(cs.ro)
	w := &v1alpha1.TrafficWeights{
		Canary: v1alpha1.WeightDestination{Weight: plan.weight, ServiceName: c.CanaryService, PodTemplateHash: canaryHash},
		Stable: v1alpha1.WeightDestination{Weight: maxW - plan.weight, ServiceName: c.StableService, PodTemplateHash: stableHash},
	}
	if plan.verify {
		w.Verified = ptr.To(verified)
	}
	old := cs.ro.Status.Canary.Weights
	if old == nil || old.Canary.Weight != w.Canary.Weight {
		cs.event("Normal", "TrafficWeightUpdated", "Traffic weight updated from %d to %d", weightOf(old), plan.weight)
	}
	cs.status.Canary.Weights = w
}

func weightOf(w *v1alpha1.TrafficWeights) int32 {
	if w == nil {
		return 0
	}
	return w.Canary.Weight
}
