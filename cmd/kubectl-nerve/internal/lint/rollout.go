package lint

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

func (l *linter) rollout(o *object) {
	ro := o.ro
	l.workload(o, ro)
	c := ro.Spec.Strategy.Canary
	switch {
	case c == nil && ro.Spec.Strategy.BlueGreen == nil:
		l.add(o, Error, "spec.strategy", "no strategy: set spec.strategy.canary")
		return
	case c != nil && ro.Spec.Strategy.BlueGreen != nil:
		l.add(o, Error, "spec.strategy", "canary and blueGreen are both set; choose one")
		return
	case c == nil:
		l.add(o, Warning, "spec.strategy.blueGreen", "blueGreen is not run by nerve's controller (Argo's runs it)")
		return
	}
	l.traffic(o, c)
	for i, s := range c.Steps {
		l.step(o, fmt.Sprintf("spec.strategy.canary.steps[%d]", i), s, ro)
	}
	if c.Analysis != nil {
		l.analysis(o, "spec.strategy.canary.analysis", c.Analysis.RolloutAnalysis)
		if s := c.Analysis.StartingStep; s != nil && (*s < 0 || int(*s) > len(c.Steps)) {
			l.add(o, Error, "spec.strategy.canary.analysis.startingStep", "startingStep %d is outside the %d steps", *s, len(c.Steps))
		}
	}
}

func (l *linter) workload(o *object, ro *v1alpha1.Rollout) {
	if ro.Spec.WorkloadRef != nil {
		l.add(o, Error, "spec.workloadRef", "workloadRef is not supported by nerve's controller; inline spec.selector and spec.template")
		return
	}
	if ro.Spec.Selector == nil {
		l.add(o, Error, "spec.selector", "spec.selector is missing: the controller cannot tell which pods and ReplicaSets belong to the Rollout")
	}
	if len(ro.Spec.Template.Spec.Containers) == 0 {
		l.add(o, Error, "spec.template", "spec.template has no containers: there is nothing to run")
	}
	for i, ctr := range ro.Spec.Template.Spec.Containers {
		if ctr.Image == "" {
			l.add(o, Error, fmt.Sprintf("spec.template.spec.containers[%d]", i), "container %q has no image", ctr.Name)
		}
	}
	if ro.Spec.Selector == nil || len(ro.Spec.Template.Spec.Containers) == 0 {
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(ro.Spec.Selector)
	if err != nil {
		l.add(o, Error, "spec.selector", "invalid selector: %v", err)
		return
	}
	if sel.Empty() {
		l.add(o, Error, "spec.selector", "empty selector would select every pod in the namespace")
		return
	}
	if !sel.Matches(labels.Set(ro.Spec.Template.Labels)) {
		l.add(o, Error, "spec.template.metadata.labels", "template labels %v do not match spec.selector %s", ro.Spec.Template.Labels, sel)
	}
}

func (l *linter) traffic(o *object, c *v1alpha1.CanaryStrategy) {
	tr := c.TrafficRouting
	if tr == nil {
		return
	}
	if c.CanaryService == "" || c.StableService == "" {
		l.add(o, Error, "spec.strategy.canary.trafficRouting", "trafficRouting needs canaryService and stableService")
	}
	if len(tr.Plugins) == 0 {
		l.add(o, Error, "spec.strategy.canary.trafficRouting", "nerve routes traffic only through plugins: add trafficRouting.plugins")
	}
	for name, raw := range tr.Plugins {
		l.routerConfig(o, "spec.strategy.canary.trafficRouting.plugins."+name, name, raw)
	}
}

func (l *linter) routerConfig(o *object, path, name string, raw json.RawMessage) {
	if !strings.Contains(name, "/") {
		l.add(o, Warning, path, "plugin name %q has no namespace prefix (want e.g. nerve/%s)", name, name)
	}
	cfg := map[string]any{}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		l.add(o, Error, path, "plugin config must be an object: %v", err)
		return
	}
	lower := strings.ToLower(name)
	switch {
	case strings.Contains(lower, "gateway"):
		found := false
		for _, k := range []string{"httpRoute", "httpRoutes", "grpcRoute", "grpcRoutes", "tcpRoute", "tcpRoutes", "tlsRoute", "tlsRoutes",
			"httpRouteSelector", "grpcRouteSelector", "tcpRouteSelector", "tlsRouteSelector"} {
			if _, ok := cfg[k]; ok {
				found = true
			}
		}
		if !found {
			l.add(o, Error, path, "Gateway API router config names no route (httpRoute, httpRoutes, tcpRoute, ... or a route selector)")
		}
	case strings.Contains(lower, "mllp"):
		for k, v := range cfg {
			if s, ok := v.(string); ok && s == "" {
				l.add(o, Error, path+"."+k, "empty value")
			}
		}
	}
}

func (l *linter) step(o *object, path string, s v1alpha1.CanaryStep, ro *v1alpha1.Rollout) {
	set := 0
	for _, ok := range []bool{s.SetWeight != nil, s.Pause != nil, s.Experiment != nil, s.Analysis != nil, s.SetCanaryScale != nil,
		s.SetHeaderRoute != nil, s.SetMirrorRoute != nil, s.Plugin != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		l.add(o, Error, path, "a step must set exactly one action, this one sets %d", set)
		return
	}
	switch {
	case s.SetWeight != nil:
		l.setWeight(o, path+".setWeight", *s.SetWeight, ro)
	case s.Pause != nil && s.Pause.Duration != nil:
		if s.Pause.Duration.Type == 1 {
			if _, err := time.ParseDuration(s.Pause.Duration.StrVal); err != nil {
				l.add(o, Error, path+".pause.duration", "invalid duration %q", s.Pause.Duration.StrVal)
			}
		}
	case s.Analysis != nil:
		l.analysis(o, path+".analysis", *s.Analysis)
	case s.Experiment != nil:
		l.add(o, Error, path+".experiment", "experiment steps are not run by nerve's controller")
	case s.Plugin != nil:
		l.add(o, Error, path+".plugin", "step plugins are not run by nerve's controller")
	case s.SetHeaderRoute != nil || s.SetMirrorRoute != nil:
		if ro.Spec.Strategy.Canary.TrafficRouting == nil {
			l.add(o, Error, path, "header and mirror routes need trafficRouting")
		}
	}
}

func (l *linter) setWeight(o *object, path string, w int32, ro *v1alpha1.Rollout) {
	maxW := int32(100)
	c := ro.Spec.Strategy.Canary
	if c.TrafficRouting != nil && c.TrafficRouting.MaxTrafficWeight != nil {
		maxW = *c.TrafficRouting.MaxTrafficWeight
	}
	if w < 0 || w > maxW {
		l.add(o, Error, path, "setWeight %d is outside 0..%d", w, maxW)
		return
	}
	if c.TrafficRouting != nil || w == 0 || w == maxW {
		return
	}
	replicas := int32(1)
	if ro.Spec.Replicas != nil {
		replicas = *ro.Spec.Replicas
	}
	canary := (w*replicas + maxW - 1) / maxW
	if got := canary * 100 / replicas; got != w*100/maxW {
		l.add(o, Warning, path, "without trafficRouting the weight is a share of pods: setWeight %d with %d replicas runs %d canary pod(s), %d%% of the pods", w, replicas, canary, got)
	}
}

// analysis checks that every template an analysis references gets a value for each argument
// it needs.
func (l *linter) analysis(o *object, path string, a v1alpha1.RolloutAnalysis) {
	if len(a.Templates) == 0 {
		l.add(o, Error, path, "analysis references no templates")
		return
	}
	passed := map[string]bool{}
	for _, arg := range a.Args {
		passed[arg.Name] = true
		if arg.Value == "" && arg.ValueFrom == nil {
			l.add(o, Warning, path+".args", "arg %q passes an empty value", arg.Name)
		}
	}
	declared := map[string]bool{}
	templates := l.templates()
	for i, ref := range a.Templates {
		kind := v1alpha1.AnalysisTemplateKind
		if ref.ClusterScope != nil && *ref.ClusterScope {
			kind = v1alpha1.ClusterAnalysisTemplateKind
		}
		t, ok := templates[kind+"/"+ref.TemplateName]
		if !ok {
			l.add(o, Warning, fmt.Sprintf("%s.templates[%d]", path, i), "%s %q is not in this file; its arguments are not checked", kind, ref.TemplateName)
			declared = nil
			continue
		}
		l.needArgs(o, path, ref.TemplateName, t, passed, declared)
	}
	for _, arg := range a.Args {
		if declared != nil && !declared[arg.Name] {
			l.add(o, Warning, path+".args", "arg %q is declared by none of the templates (%s), so the controller drops it", arg.Name, templateNames(a))
		}
	}
}

func (l *linter) needArgs(o *object, path, name string, t *object, passed, declared map[string]bool) {
	for _, arg := range t.tmpl.Args {
		if declared != nil {
			declared[arg.Name] = true
		}
		if arg.Value == nil && arg.ValueFrom == nil && !passed[arg.Name] {
			l.add(o, Error, path, "passes no value for arg %q that template %s needs (it has no default)", arg.Name, name)
		}
	}
	for _, ref := range undeclaredRefs(t.tmpl) {
		if declared != nil {
			declared[ref] = true
		}
		if passed[ref] {
			l.add(o, Error, path, "passes arg %q but template %s does not declare it, so {{args.%s}} stays unresolved", ref, name, ref)
		} else {
			l.add(o, Error, path, "passes no value for {{args.%s}}, which template %s uses", ref, name)
		}
	}
}

func templateNames(a v1alpha1.RolloutAnalysis) string {
	names := make([]string, 0, len(a.Templates))
	for _, t := range a.Templates {
		names = append(names, t.TemplateName)
	}
	return strings.Join(names, ",")
}
