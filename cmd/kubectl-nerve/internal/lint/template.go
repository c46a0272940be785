package lint

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/expr-lang/expr"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/analysis"
)

func (l *linter) template(o *object) {
	t := o.tmpl
	if len(t.Metrics) == 0 && len(t.Templates) == 0 {
		l.add(o, Error, "spec.metrics", "the template has no metrics")
	}
	declared := map[string]bool{}
	for _, a := range t.Args {
		declared[a.Name] = true
	}
	names := map[string]bool{}
	for i, m := range t.Metrics {
		path := fmt.Sprintf("spec.metrics[%d]", i)
		if names[m.Name] {
			l.add(o, Error, path+".name", "duplicate metric name %q", m.Name)
		}
		names[m.Name] = true
		l.metric(o, path, m)
	}
	for _, ref := range undeclaredRefs(t) {
		l.add(o, Error, l.refPath(o, ref), "{{args.%s}} is used but spec.args does not declare %q, so the query can never be resolved", ref, ref)
	}
	// The controller's matching (unanchored regular expressions, as in Argo): one call per rule,
	// so that every rule that matches nothing is reported.
	for i, d := range t.DryRun {
		if _, err := analysis.DryRunMetrics([]v1alpha1.DryRun{d}, t.Metrics); err != nil {
			l.add(o, Error, fmt.Sprintf("spec.dryRun[%d].metricName", i), "%q matches no metric name (an unanchored regular expression, e.g. .* for all): the controller refuses the run", d.MetricName)
		}
	}
	for i, r := range t.MeasurementRetention {
		if _, err := analysis.RetentionMetrics([]v1alpha1.MeasurementRetention{r}, t.Metrics); err != nil {
			l.add(o, Error, fmt.Sprintf("spec.measurementRetention[%d].metricName", i), "%q matches no metric name (an unanchored regular expression, e.g. .* for all): the controller refuses the run", r.MetricName)
		}
	}
}

// refPath returns the path of the first metric query using {{args.ref}}.
func (l *linter) refPath(o *object, ref string) string {
	for i, m := range o.tmpl.Metrics {
		for _, r := range analysis.ArgRefs(metricText(m)) {
			if r == ref {
				if m.Provider.Prometheus != nil {
					return fmt.Sprintf("spec.metrics[%d].provider.prometheus.query", i)
				}
				return fmt.Sprintf("spec.metrics[%d].provider", i)
			}
		}
	}
	return "spec.args"
}

// undeclaredRefs lists the {{args.X}} a template uses without declaring X.
func undeclaredRefs(t *v1alpha1.AnalysisTemplateSpec) []string {
	declared := map[string]bool{}
	for _, a := range t.Args {
		declared[a.Name] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range t.Metrics {
		for _, r := range analysis.ArgRefs(metricText(m)) {
			if !declared[r] && !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	sort.Strings(out)
	return out
}

// metricText is every string of a metric that argument placeholders can appear in.
func metricText(m v1alpha1.Metric) string {
	raw, _ := json.Marshal(m.Provider)
	return string(raw) + " " + m.SuccessCondition + " " + m.FailureCondition
}

func (l *linter) metric(o *object, path string, m v1alpha1.Metric) {
	before := count(l.findings, Error)
	l.metricChecks(o, path, m)
	// What lint's own checks did not word: Argo's (and nerve's) refusal of the run.
	if count(l.findings, Error) == before {
		if err := analysis.ValidateMetric(m); err != nil {
			l.add(o, Error, path, "the controller refuses a run of this metric (Analysis spec invalid): %v", err)
		}
	}
}

// count counts the findings of severity sev.
func count(fs []Finding, sev Severity) int {
	n := 0
	for _, f := range fs {
		if f.Severity == sev {
			n++
		}
	}
	return n
}

func (l *linter) metricChecks(o *object, path string, m v1alpha1.Metric) {
	if m.Name == "" {
		l.add(o, Error, path, "metric has no name")
	}
	l.provider(o, path+".provider", m)
	l.conditions(o, path, m)
	if m.Interval != "" {
		if _, err := time.ParseDuration(string(m.Interval)); err != nil {
			l.add(o, Error, path+".interval", "invalid duration %q", m.Interval)
		}
	}
	if m.InitialDelay != "" {
		if _, err := time.ParseDuration(string(m.InitialDelay)); err != nil {
			l.add(o, Error, path+".initialDelay", "invalid duration %q", m.InitialDelay)
		}
	}
	count := int(analysis.EffectiveCount(m))
	bounded := count > 0
	if m.Count != nil && m.Interval == "" && count > 1 {
		l.add(o, Error, path+".count", "count %d needs an interval", count)
		return
	}
	limit, ok := intOr(m.FailureLimit, 0)
	if !ok {
		l.add(o, Error, path+".failureLimit", "failureLimit %q is not an integer", m.FailureLimit.String())
		return
	}
	switch {
	case limit < 0:
		l.add(o, Warning, l.limitPath(o, path), "failureLimit %d never fails the metric", limit)
	case bounded && limit >= count:
		why := fmt.Sprintf("count %d", count)
		if m.Count == nil {
			why = "no interval, so it is measured once"
		}
		l.add(o, Warning, l.limitPath(o, path), "metric %q can never fail: failureLimit %d is not below its effective count (%s)", m.Name, limit, why)
	}
}

func (l *linter) limitPath(o *object, path string) string {
	if _, ok := o.doc.lines[path+".failureLimit"]; ok {
		return path + ".failureLimit"
	}
	return path
}

func intOr(v *intstr.IntOrString, def int) (int, bool) {
	if v == nil {
		return def, true
	}
	if v.Type == intstr.Int {
		return int(v.IntVal), true
	}
	n, err := strconv.Atoi(v.StrVal)
	return n, err == nil
}

func (l *linter) provider(o *object, path string, m v1alpha1.Metric) {
	p := m.Provider
	kinds := p.Kinds()
	n := len(p.Plugin) + len(p.Other)
	for _, set := range []bool{p.Prometheus != nil, p.Web != nil, p.Job != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		l.add(o, Error, path, "a metric needs exactly one provider, this one has %d", n)
		return
	}
	if p.Prometheus != nil && p.Prometheus.Query == "" {
		l.add(o, Error, path+".prometheus.query", "prometheus query is empty")
	}
	// A built-in block runs through the nerve plugin of analysis.BuiltinPlugins; one without a
	// row there has no nerve plugin, and every measurement of it would error.
	if kind := kinds[0]; kind != "plugin" {
		if b, ok := analysis.BuiltinPluginFor(kind); !ok {
			l.add(o, Error, path+"."+kind, "%s", analysis.MissingPlugin(m, b.Plugin))
		}
	}
	for name, raw := range p.Plugin {
		var cfg map[string]any
		if err := json.Unmarshal(raw, &cfg); err != nil {
			l.add(o, Error, path+".plugin."+name, "plugin config must be an object: %v", err)
		}
	}
}

func (l *linter) conditions(o *object, path string, m v1alpha1.Metric) {
	if m.SuccessCondition == "" && m.FailureCondition == "" {
		l.add(o, Warning, path, "metric %q has no successCondition or failureCondition: every measurement counts as successful", m.Name)
	}
	for field, cond := range map[string]string{"successCondition": m.SuccessCondition, "failureCondition": m.FailureCondition} {
		if cond == "" {
			continue
		}
		if _, err := expr.Compile(cond, expr.Env(conditionEnv()), expr.AllowUndefinedVariables()); err != nil {
			l.add(o, Error, path+"."+field, "invalid condition %q: %v", cond, err)
		}
	}
}

// conditionEnv is the evaluation environment of Argo's conditions (result and its helpers).
func conditionEnv() map[string]any {
	return map[string]any{
		"result":  []any{},
		"asInt":   func(any) int64 { return 0 },
		"asFloat": func(any) float64 { return 0 },
		"isNaN":   func(float64) bool { return false },
		"isInf":   func(float64) bool { return false },
		"isNil":   func(any) bool { return false },
		"default": func(any, any) any { return nil },
	}
}
