package rules

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// Env is what the rules may ask beyond the Rollout. A nil func means "not known here" (lint
// without a cluster): the rules that need it are skipped.
type Env struct {
	// RouterRegistered reports whether a traffic-router plugin is registered under name.
	RouterRegistered func(name string) bool
	// ServiceExists reports whether a Service of that name exists in the Rollout's namespace.
	ServiceExists func(name string) bool
	// Analysis checks one analysis reference (its templates and args) found at path.
	Analysis func(path string, ra v1alpha1.RolloutAnalysis) []Finding
}

// ValidateRollout returns every finding about ro, Errors in the order the controller checks
// them (so FirstError is the controller's InvalidSpec message), Warnings among them.
func ValidateRollout(ro *v1alpha1.Rollout, env Env) []Finding {
	var fs findings
	c, ok := strategy(&fs, ro)
	workload(&fs, ro)
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil && c == nil {
		blueGreen(&fs, ro, bg, env)
		return fs
	}
	if !ok {
		return fs
	}
	unsupported(&fs, c)
	canaryScaleDown(&fs, c)
	fenceposts(&fs, c)
	pingPong(&fs, c)
	if !steps(&fs, ro, c) {
		return fs
	}
	traffic(&fs, c, env)
	services(&fs, c, env)
	analyses(&fs, c, env)
	return fs
}

// strategy checks workloadRef and the strategy; it returns the canary strategy when the canary
// rules apply.
func strategy(fs *findings, ro *v1alpha1.Rollout) (*v1alpha1.CanaryStrategy, bool) {
	s := ro.Spec
	if s.WorkloadRef != nil {
		fs.fail("spec.workloadRef", Unsupported, "workloadRef is not supported by nerve's controller; inline spec.selector and spec.template",
			"nerve does not support workloadRef yet; put the pod template in spec.template")
	}
	c, bg := s.Strategy.Canary, s.Strategy.BlueGreen
	switch {
	case c != nil && bg != nil:
		fs.fail("spec.strategy", Invalid, "canary and blueGreen are both set; choose one", "canary and blueGreen are both set; choose one")
	case c == nil && bg == nil:
		fs.fail("spec.strategy", Required, "no strategy: set spec.strategy.canary or spec.strategy.blueGreen",
			"Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'")
	}
	return c, c != nil && bg == nil
}

// workload checks the selector and the pod template (skipped for a workloadRef).
func workload(fs *findings, ro *v1alpha1.Rollout) {
	s := ro.Spec
	if s.WorkloadRef != nil {
		return
	}
	if s.Selector == nil {
		fs.fail("spec.selector", Required, "spec.selector is missing: the controller cannot tell which pods and ReplicaSets belong to the Rollout",
			"Rollout has missing field '.spec.selector'")
	} else {
		selector(fs, s.Selector, s.Template.Labels)
	}
	if len(s.Template.Spec.Containers) == 0 {
		fs.fail("spec.template", Required, "spec.template has no containers: there is nothing to run", "the pod template has no containers")
	}
}

func selector(fs *findings, ls *metav1.LabelSelector, tmpl map[string]string) {
	sel, err := metav1.LabelSelectorAsSelector(ls)
	switch {
	case err != nil:
		fs.fail("spec.selector", Invalid, fmt.Sprintf("invalid selector: %v", err), "%v", err)
	case sel.Empty():
		fs.fail("spec.selector", Invalid, "empty selector would select every pod in the namespace",
			"This rollout is selecting all pods. A non-empty selector is required.")
	case !sel.Matches(labels.Set(tmpl)):
		fs.fail("spec.template.metadata.labels", Invalid, fmt.Sprintf("template labels %v do not match spec.selector %s", tmpl, sel),
			"`selector` does not match template `labels`")
	}
}

// steps checks maxTrafficWeight, each step and analysis.startingStep; false when the weights
// cannot be judged at all.
func steps(fs *findings, ro *v1alpha1.Rollout, c *v1alpha1.CanaryStrategy) bool {
	maxW := canary.MaxWeight(ro)
	if maxW <= 0 {
		fs.fail("spec.strategy.canary.trafficRouting.maxTrafficWeight", Invalid, "", "must be > 0")
		return false
	}
	for i, st := range c.Steps {
		step(fs, ro, fmt.Sprintf("spec.strategy.canary.steps[%d]", i), st, maxW)
	}
	if c.Analysis != nil && c.Analysis.StartingStep != nil {
		if s := *c.Analysis.StartingStep; s < 0 || int(s) > len(c.Steps) {
			fs.fail("spec.strategy.canary.analysis.startingStep", Invalid, fmt.Sprintf("startingStep %d is outside the %d steps", s, len(c.Steps)),
				"%d: must be between 0 and the number of steps (%d)", s, len(c.Steps))
		}
	}
	return true
}

// StepKinds lists the actions a step sets (a valid step sets exactly one).
func StepKinds(st v1alpha1.CanaryStep) []string {
	var k []string
	for _, a := range []struct {
		set  bool
		name string
	}{{st.SetWeight != nil, "setWeight"}, {st.Pause != nil, "pause"}, {st.Experiment != nil, "experiment"},
		{st.Analysis != nil, "analysis"}, {st.SetCanaryScale != nil, "setCanaryScale"}, {st.SetHeaderRoute != nil, "setHeaderRoute"},
		{st.SetMirrorRoute != nil, "setMirrorRoute"}, {st.Plugin != nil, "plugin"}} {
		if a.set {
			k = append(k, a.name)
		}
	}
	return k
}

func step(fs *findings, ro *v1alpha1.Rollout, path string, st v1alpha1.CanaryStep, maxW int32) {
	if kinds := StepKinds(st); len(kinds) != 1 {
		fs.fail(path, Invalid, fmt.Sprintf("a step must set exactly one action, this one sets %d", len(kinds)),
			"a step must set exactly one of setWeight, pause, analysis, setCanaryScale, setHeaderRoute, setMirrorRoute (found %d: %s); unknown step kinds are not supported",
			len(kinds), strings.Join(kinds, ", "))
		return
	}
	tr := ro.Spec.Strategy.Canary.TrafficRouting
	switch {
	case st.Experiment != nil:
		fs.fail(path+".experiment", Unsupported, "nerve has no Experiment controller: remove the experiment step (or run this Rollout with Argo Rollouts)",
			"nerve has no Experiment controller, so experiment steps are refused; remove the step")
	case st.Plugin != nil:
		fs.fail(path+".plugin", Unsupported, "step plugins are not run by nerve's controller", "nerve does not support step plugins yet")
	case st.SetWeight != nil:
		setWeight(fs, ro, path+".setWeight", *st.SetWeight, maxW)
	case st.Pause != nil:
		if _, _, err := canary.PauseDuration(st.Pause); err != nil {
			fs.fail(path+".pause.duration", Invalid, "", "%v", err)
		}
	case st.SetCanaryScale != nil:
		canaryScale(fs, path+".setCanaryScale", st.SetCanaryScale, tr != nil, maxW)
	case st.SetHeaderRoute != nil:
		managedRoute(fs, tr, path+".setHeaderRoute", st.SetHeaderRoute.Name)
	case st.SetMirrorRoute != nil:
		managedRoute(fs, tr, path+".setMirrorRoute", st.SetMirrorRoute.Name)
	}
}

func setWeight(fs *findings, ro *v1alpha1.Rollout, path string, w, maxW int32) {
	if w < 0 || w > maxW {
		fs.fail(path, Invalid, fmt.Sprintf("setWeight %d is outside 0..%d", w, maxW), "%d: must be between 0 and maxTrafficWeight (%d)", w, maxW)
		return
	}
	if ro.Spec.Strategy.Canary.TrafficRouting != nil || w == 0 || w == maxW {
		return
	}
	replicas := canary.Replicas(ro)
	pods := canary.WeightToReplicas(replicas, w, maxW)
	if got := pods * 100 / replicas; got != w*100/maxW {
		fs.warn(path, "without trafficRouting the weight is a share of pods: setWeight %d with %d replicas runs %d canary pod(s), %d%% of the pods",
			w, replicas, pods, got)
	}
}

func canaryScale(fs *findings, path string, s *v1alpha1.SetCanaryScale, routed bool, maxW int32) {
	if !routed {
		fs.fail(path, Invalid, "", "setCanaryScale requires trafficRouting")
		return
	}
	if w := s.Weight; w != nil && (*w < 0 || *w > maxW) {
		fs.fail(path+".weight", Invalid, "", "%d: must be between 0 and maxTrafficWeight (%d)", *w, maxW)
	}
}

func managedRoute(fs *findings, tr *v1alpha1.RolloutTrafficRouting, path, name string) {
	if tr == nil || len(tr.Plugins) == 0 {
		fs.fail(path, Invalid, "", "requires trafficRouting with a router plugin")
		return
	}
	for _, r := range tr.ManagedRoutes {
		if r.Name == name {
			return
		}
	}
	fs.fail(path+".name", Invalid, "", "%q: must be listed in spec.strategy.canary.trafficRouting.managedRoutes", name)
}

// RouterNames returns the names of the Rollout's traffic-router plugins, sorted.
func RouterNames(ro *v1alpha1.Rollout) []string {
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

func traffic(fs *findings, c *v1alpha1.CanaryStrategy, env Env) {
	tr := c.TrafficRouting
	if tr == nil {
		return
	}
	if len(tr.Plugins) == 0 {
		fs.fail("spec.strategy.canary.trafficRouting", Invalid, "nerve routes traffic only through plugins: add trafficRouting.plugins",
			"nerve routes traffic only through plugins; list at least one under trafficRouting.plugins")
	}
	if (c.CanaryService == "" || c.StableService == "") && c.PingPong == nil {
		fs.fail("spec.strategy.canary", Invalid, "trafficRouting needs canaryService and stableService",
			"trafficRouting requires both canaryService and stableService")
	}
	for _, name := range RouterNames(&v1alpha1.Rollout{Spec: v1alpha1.RolloutSpec{Strategy: v1alpha1.RolloutStrategy{Canary: c}}}) {
		path := "spec.strategy.canary.trafficRouting.plugins." + name
		if !strings.Contains(name, "/") {
			fs.warn(path, "plugin name %q has no namespace prefix (want e.g. nerve/%s)", name, name)
		}
		if env.RouterRegistered != nil && !env.RouterRegistered(name) {
			fs.fail(path, NotFound, "", "traffic router plugin %q is not registered in argo-rollouts-config (trafficRouterPlugins)", name)
		}
	}
}

func services(fs *findings, c *v1alpha1.CanaryStrategy, env Env) {
	if c.CanaryService != "" && c.CanaryService == c.StableService {
		fs.fail("spec.strategy.canary.stableService", Invalid, "", "%q: stableService and canaryService must differ", c.StableService)
	}
	if env.ServiceExists == nil {
		return
	}
	for _, s := range []struct{ field, name string }{{"canaryService", c.CanaryService}, {"stableService", c.StableService}} {
		if s.name != "" && !env.ServiceExists(s.name) {
			fs.fail("spec.strategy.canary."+s.field, Invalid, "", "%q: service %q not found", s.name, s.name)
		}
	}
}

// analyses hands every analysis the Rollout may start (step analyses, then the background
// analysis) to env.Analysis.
func analyses(fs *findings, c *v1alpha1.CanaryStrategy, env Env) {
	if env.Analysis == nil {
		return
	}
	for i, st := range c.Steps {
		if st.Analysis != nil {
			*fs = append(*fs, env.Analysis(fmt.Sprintf("spec.strategy.canary.steps[%d].analysis", i), *st.Analysis)...)
		}
	}
	if c.Analysis != nil {
		*fs = append(*fs, env.Analysis("spec.strategy.canary.analysis", c.Analysis.RolloutAnalysis)...)
	}
}
