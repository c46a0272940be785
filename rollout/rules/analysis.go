package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/analysis"
)

// Template is one (Cluster)AnalysisTemplate that an analysis references, as found by the
// caller (the controller's informers, or lint's file).
type Template struct {
	Name string
	Spec *v1alpha1.AnalysisTemplateSpec
}

// backgroundAnalysisPath is the path of the only analysis that may run until the rollout ends.
const backgroundAnalysisPath = "spec.strategy.canary.analysis"

// argPlaceholder is the value Argo's validation gives a template argument without a default.
const argPlaceholder = "dummy-value"

// AnalysisTemplates checks the templates of the analysis at path (…steps[i].analysis,
// …canary.analysis, …blueGreen.prePromotionAnalysis, …) as Argo's ValidateAnalysisTemplatesWithType does, and nerve's own rule on
// providers:
//   - a step (or pre/post-promotion) analysis must end by itself: a metric with an interval and no
//     count is refused with Argo's "AnalysisTemplate t has metric m which runs indefinitely.
//     Invalid value for count: …" (the canary's background analysis may run until the rollout ends);
//   - every metric must run through a registered metric-provider plugin (registered == nil: not
//     known here): otherwise each measurement would error and abort the canary after it took
//     traffic, so the Rollout is refused up front naming the plugin to register.
func AnalysisTemplates(path string, templates []Template, registered func(plugin string) bool) []Finding {
	var fs findings
	// every analysis but the canary's background one must end by itself (Argo's InlineAnalysis,
	// PrePromotionAnalysis, PostPromotionAnalysis)
	step := path != backgroundAnalysisPath
	names := make([]string, 0, len(templates))
	for _, t := range templates {
		names = append(names, t.Name)
	}
	value := fmt.Sprintf("%q", fmt.Sprintf("templateNames: %s", names))
	for _, t := range templates {
		metrics, err := templateMetrics(t.Spec)
		if err != nil {
			continue // an unresolvable argument is the caller's finding (BuildRunSpec, lint's argument checks)
		}
		for _, m := range metrics {
			if step && analysis.EffectiveCount(m) == 0 {
				fs.fail(path+".templates", Invalid, fmt.Sprintf("metric %q of AnalysisTemplate %s has an interval and no count: this analysis would never end", m.Name, t.Name),
					"%s: AnalysisTemplate %s has metric %s which runs indefinitely. Invalid value for count: %s", value, t.Name, m.Name, countString(m.Count))
			}
			providerRegistered(&fs, path, t.Name, m, registered)
		}
	}
	return fs
}

func providerRegistered(fs *findings, path, template string, m v1alpha1.Metric, registered func(string) bool) {
	if registered == nil {
		return
	}
	plugin, _, err := analysis.PluginFor(m)
	if err != nil || registered(plugin) {
		return
	}
	fs.fail(path+".templates", NotFound, "", "AnalysisTemplate %s: %s", template, analysis.MissingPlugin(m, plugin))
}

// templateMetrics substitutes the template's own argument defaults, a placeholder for the
// others, as Argo's validation does.
func templateMetrics(t *v1alpha1.AnalysisTemplateSpec) ([]v1alpha1.Metric, error) {
	args := make([]v1alpha1.Argument, 0, len(t.Args))
	for _, a := range t.Args {
		a := *a.DeepCopy()
		if a.Value == nil {
			v := argPlaceholder
			a.Value, a.ValueFrom = &v, nil
		}
		args = append(args, a)
	}
	return analysis.ResolveWithoutSecrets(t.Metrics, args)
}

// countString prints a count as Argo's message does (%s of *intstr.IntOrString).
func countString(c *intstr.IntOrString) string {
	if c == nil {
		return "<nil>"
	}
	return c.String()
}
