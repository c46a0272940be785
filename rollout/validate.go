package rollout

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/rollout/analysis"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// validate returns a precise message for the first reason the Rollout cannot be run; "" when
// it is valid. Nothing is applied for an invalid Rollout.
func (rc *rolloutCtx) validate(podHash string) string {
	for _, check := range []func() string{rc.validateShape, rc.validateSteps, rc.validateTraffic,
		rc.validateServices, func() string { return rc.validateAnalysis(podHash) }} {
		if msg := check(); msg != "" {
			return fmt.Sprintf("The Rollout %q is invalid: %s", rc.ro.Name, msg)
		}
	}
	return ""
}

func (rc *rolloutCtx) validateShape() string {
	s := rc.ro.Spec
	switch {
	case s.WorkloadRef != nil:
		return "spec.workloadRef: Unsupported value: nerve does not support workloadRef yet; put the pod template in spec.template"
	case s.Strategy.BlueGreen != nil:
		return "spec.strategy.blueGreen: Unsupported value: nerve does not support the blueGreen strategy yet; only canary"
	case s.Strategy.Canary == nil:
		return "spec.strategy.canary: Required value: Rollout has missing field '.spec.strategy.canary'"
	case s.Selector == nil:
		return "spec.selector: Required value: Rollout has missing field '.spec.selector'"
	}
	sel, err := metav1.LabelSelectorAsSelector(s.Selector)
	if err != nil {
		return fmt.Sprintf("spec.selector: Invalid value: %v", err)
	}
	if sel.Empty() {
		return "spec.selector: Invalid value: This rollout is selecting all pods. A non-empty selector is required."
	}
	if !sel.Matches(labels.Set(s.Template.Labels)) {
		return "spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`"
	}
	if len(s.Template.Spec.Containers) == 0 {
		return "spec.template.spec.containers: Required value: the pod template has no containers"
	}
	return ""
}

func (rc *rolloutCtx) validateSteps() string {
	c := rc.ro.Spec.Strategy.Canary
	maxW := canary.MaxWeight(rc.ro)
	if maxW <= 0 {
		return "spec.strategy.canary.trafficRouting.maxTrafficWeight: Invalid value: must be > 0"
	}
	for i, st := range c.Steps {
		path := fmt.Sprintf("spec.strategy.canary.steps[%d]", i)
		if msg := rc.validateStep(path, st, maxW); msg != "" {
			return msg
		}
	}
	if c.Analysis != nil && c.Analysis.StartingStep != nil && (*c.Analysis.StartingStep < 0 || int(*c.Analysis.StartingStep) > len(c.Steps)) {
		return fmt.Sprintf("spec.strategy.canary.analysis.startingStep: Invalid value: %d: must be between 0 and the number of steps (%d)", *c.Analysis.StartingStep, len(c.Steps))
	}
	return ""
}

func stepKinds(st v1alpha1.CanaryStep) []string {
	var k []string
	add := func(set bool, name string) {
		if set {
			k = append(k, name)
		}
	}
	add(st.SetWeight != nil, "setWeight")
	add(st.Pause != nil, "pause")
	add(st.Experiment != nil, "experiment")
	add(st.Analysis != nil, "analysis")
	add(st.SetCanaryScale != nil, "setCanaryScale")
	add(st.SetHeaderRoute != nil, "setHeaderRoute")
	add(st.SetMirrorRoute != nil, "setMirrorRoute")
	add(st.Plugin != nil, "plugin")
	return k
}

func (rc *rolloutCtx) validateStep(path string, st v1alpha1.CanaryStep, maxW int32) string {
	kinds := stepKinds(st)
	if len(kinds) != 1 {
		return fmt.Sprintf("%s: Invalid value: a step must set exactly one of setWeight, pause, analysis, setCanaryScale, setHeaderRoute, setMirrorRoute (found %d: %s); unknown step kinds are not supported", path, len(kinds), strings.Join(kinds, ", "))
	}
	tr := rc.ro.Spec.Strategy.Canary.TrafficRouting
	switch {
	case st.Experiment != nil:
		return path + ".experiment: Unsupported value: nerve does not support experiment steps yet"
	case st.Plugin != nil:
		return path + ".plugin: Unsupported value: nerve does not support step plugins yet"
	case st.SetWeight != nil && (*st.SetWeight < 0 || *st.SetWeight > maxW):
		return fmt.Sprintf("%s.setWeight: Invalid value: %d: must be between 0 and maxTrafficWeight (%d)", path, *st.SetWeight, maxW)
	case st.Pause != nil:
		if _, _, err := canary.PauseDuration(st.Pause); err != nil {
			return fmt.Sprintf("%s.pause.duration: Invalid value: %v", path, err)
		}
	case st.SetCanaryScale != nil:
		if tr == nil {
			return path + ".setCanaryScale: Invalid value: setCanaryScale requires trafficRouting"
		}
		if w := st.SetCanaryScale.Weight; w != nil && (*w < 0 || *w > maxW) {
			return fmt.Sprintf("%s.setCanaryScale.weight: Invalid value: %d: must be between 0 and maxTrafficWeight (%d)", path, *w, maxW)
		}
	case st.SetHeaderRoute != nil:
		return rc.validateManagedRoute(path+".setHeaderRoute", st.SetHeaderRoute.Name)
	case st.SetMirrorRoute != nil:
		return rc.validateManagedRoute(path+".setMirrorRoute", st.SetMirrorRoute.Name)
	}
	return ""
}

func (rc *rolloutCtx) validateManagedRoute(path, name string) string {
	tr := rc.ro.Spec.Strategy.Canary.TrafficRouting
	if tr == nil || len(tr.Plugins) == 0 {
		return path + ": Invalid value: requires trafficRouting with a router plugin"
	}
	for _, r := range tr.ManagedRoutes {
		if r.Name == name {
			return ""
		}
	}
	return fmt.Sprintf("%s.name: Invalid value: %q: must be listed in spec.strategy.canary.trafficRouting.managedRoutes", path, name)
}

func (rc *rolloutCtx) validateTraffic() string {
	c := rc.ro.Spec.Strategy.Canary
	if c.TrafficRouting == nil {
		return ""
	}
	if len(c.TrafficRouting.Plugins) == 0 {
		return "spec.strategy.canary.trafficRouting: Invalid value: nerve routes traffic only through plugins; list at least one under trafficRouting.plugins"
	}
	if c.CanaryService == "" || c.StableService == "" {
		return "spec.strategy.canary: Invalid value: trafficRouting requires both canaryService and stableService"
	}
	for _, name := range routerNames(rc.ro) {
		if !rc.c.plugins.Has(plugins.KindTrafficRouter, name) {
			return fmt.Sprintf("spec.strategy.canary.trafficRouting.plugins.%s: Not found: traffic router plugin %q is not registered in argo-rollouts-config (trafficRouterPlugins)", name, name)
		}
	}
	return ""
}

func (rc *rolloutCtx) validateServices() string {
	c := rc.ro.Spec.Strategy.Canary
	if c.CanaryService != "" && c.CanaryService == c.StableService {
		return fmt.Sprintf("spec.strategy.canary.stableService: Invalid value: %q: stableService and canaryService must differ", c.StableService)
	}
	for _, s := range []struct{ field, name string }{{"canaryService", c.CanaryService}, {"stableService", c.StableService}} {
		if s.name == "" {
			continue
		}
		if _, err := rc.c.svcLister.Services(rc.ro.Namespace).Get(s.name); err != nil {
			return fmt.Sprintf("spec.strategy.canary.%s: Invalid value: %q: service %q not found", s.field, s.name, s.name)
		}
	}
	return ""
}

// validateAnalysis builds (without creating) every run the Rollout may start, so that a bad
// template reference or an unresolvable argument is reported before anything is applied.
func (rc *rolloutCtx) validateAnalysis(podHash string) string {
	c := rc.ro.Spec.Strategy.Canary
	check := func(path string, ra v1alpha1.RolloutAnalysis) string {
		args, err := rolloutArgs(rc.ro, podHash, ra.Args)
		if err == nil {
			_, err = analysis.BuildRunSpec(rc.c, rc.ro.Namespace, ra.Templates, args)
		}
		if err != nil {
			return fmt.Sprintf("%s: Invalid value: %v", path, err)
		}
		return ""
	}
	for i, st := range c.Steps {
		if st.Analysis != nil {
			if msg := check(fmt.Sprintf("spec.strategy.canary.steps[%d].analysis", i), *st.Analysis); msg != "" {
				return msg
			}
		}
	}
	if c.Analysis != nil {
		return check("spec.strategy.canary.analysis", c.Analysis.RolloutAnalysis)
	}
	return ""
}
