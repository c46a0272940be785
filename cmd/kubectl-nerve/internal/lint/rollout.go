package lint

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins/host"
	"github.com/nerve-rollouts/nerve/rollout/rules"
)

// rollout reports the rules' findings (the controller's own validation, rollout/rules) and
// lint's checks of what only a file shows: images, router configs and analysis arguments
// against the templates of the same file.
func (l *linter) rollout(o *object) {
	ro := o.ro
	env := rules.Env{Analysis: func(path string, ra v1alpha1.RolloutAnalysis) []rules.Finding {
		return append(l.analysis(path, ra), rules.AnalysisTemplates(path, l.fileTemplates(ra), l.metricPlugins())...)
	}}
	for _, f := range rules.ValidateRollout(ro, env) {
		l.add(o, Severity(f.Severity), f.Path, "%s", f.Explain())
	}
	l.images(o, ro)
	if c := ro.Spec.Strategy.Canary; c != nil && c.TrafficRouting != nil {
		for name, raw := range c.TrafficRouting.Plugins {
			l.routerConfig(o, "spec.strategy.canary.trafficRouting.plugins."+name, name, raw)
		}
	}
}

func (l *linter) images(o *object, ro *v1alpha1.Rollout) {
	for i, ctr := range ro.Spec.Template.Spec.Containers {
		if ctr.Image == "" {
			l.add(o, Error, fmt.Sprintf("spec.template.spec.containers[%d]", i), "container %q has no image", ctr.Name)
		}
	}
}

func (l *linter) routerConfig(o *object, path, name string, raw json.RawMessage) {
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

// analysis checks that every template an analysis references gets a value for each argument
// it needs.
func (l *linter) analysis(path string, a v1alpha1.RolloutAnalysis) []rules.Finding {
	var fs argFindings
	if len(a.Templates) == 0 {
		fs.add(Error, path, "analysis references no templates")
		return fs
	}
	passed := map[string]bool{}
	for _, arg := range a.Args {
		passed[arg.Name] = true
		if arg.Value == "" && arg.ValueFrom == nil {
			fs.add(Warning, path+".args", "arg %q passes an empty value", arg.Name)
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
			fs.add(Warning, fmt.Sprintf("%s.templates[%d]", path, i), "%s %q is not in this file; its arguments are not checked", kind, ref.TemplateName)
			declared = nil
			continue
		}
		fs.needArgs(path, ref.TemplateName, t, passed, declared)
	}
	for _, arg := range a.Args {
		if declared != nil && !declared[arg.Name] {
			fs.add(Warning, path+".args", "arg %q is declared by none of the templates (%s), so the controller drops it", arg.Name, templateNames(a))
		}
	}
	return fs
}

func (fs *argFindings) needArgs(path, name string, t *object, passed, declared map[string]bool) {
	for _, arg := range t.tmpl.Args {
		if declared != nil {
			declared[arg.Name] = true
		}
		if arg.Value == nil && arg.ValueFrom == nil && !passed[arg.Name] {
			fs.add(Error, path, "passes no value for arg %q that template %s needs (it has no default)", arg.Name, name)
		}
	}
	for _, ref := range undeclaredRefs(t.tmpl) {
		if declared != nil {
			declared[ref] = true
		}
		if passed[ref] {
			fs.add(Error, path, "passes arg %q but template %s does not declare it, so {{args.%s}} stays unresolved", ref, name, ref)
		} else {
			fs.add(Error, path, "passes no value for {{args.%s}}, which template %s uses", ref, name)
		}
	}
}

// argFindings collects lint's analysis findings in the rules' form.
type argFindings []rules.Finding

func (fs *argFindings) add(sev Severity, path, format string, a ...any) {
	*fs = append(*fs, rules.Finding{Path: path, Severity: rules.Severity(sev), Detail: fmt.Sprintf(format, a...)})
}

func templateNames(a v1alpha1.RolloutAnalysis) string {
	names := make([]string, 0, len(a.Templates))
	for _, t := range a.Templates {
		names = append(names, t.TemplateName)
	}
	return strings.Join(names, ",")
}

// fileTemplates returns the templates of the file that an analysis references (the others are
// not known here).
func (l *linter) fileTemplates(a v1alpha1.RolloutAnalysis) []rules.Template {
	all := l.templates()
	var out []rules.Template
	for _, ref := range a.Templates {
		kind := v1alpha1.AnalysisTemplateKind
		if ref.ClusterScope != nil && *ref.ClusterScope {
			kind = v1alpha1.ClusterAnalysisTemplateKind
		}
		if t, ok := all[kind+"/"+ref.TemplateName]; ok {
			out = append(out, rules.Template{Name: t.name, Spec: t.tmpl})
		}
	}
	return out
}

// metricPlugins reports whether a metric-provider plugin is registered in the file's
// argo-rollouts-config; nil (not known) when the file has none.
func (l *linter) metricPlugins() func(string) bool {
	for _, o := range l.objects {
		if o.data == nil {
			continue
		}
		reg, _ := host.CheckConfigMap(o.data)
		return func(name string) bool {
			for _, e := range reg.MetricProviders {
				if e.Name == name {
					return true
				}
			}
			return false
		}
	}
	return nil
}
