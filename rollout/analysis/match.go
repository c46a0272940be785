package analysis

import (
	"fmt"
	"regexp"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// DryRunMetrics returns the names of the metrics that a dryRun rule matches. As in Argo, a
// rule's metricName is an unanchored regular expression (".*" dry-runs every metric), and a
// rule that matches no metric, or does not compile, makes the spec invalid.
func DryRunMetrics(rules []v1alpha1.DryRun, metrics []v1alpha1.Metric) (map[string]bool, error) {
	out := map[string]bool{}
	for i, r := range rules {
		names, err := matching("dryRun", i, r.MetricName, metrics)
		if err != nil {
			return out, err
		}
		for _, n := range names {
			out[n] = true
		}
	}
	return out, nil
}

// RetentionMetrics returns, per metric name, the measurementRetention rule that applies to it
// (the last matching one), with DryRunMetrics' matching.
func RetentionMetrics(rules []v1alpha1.MeasurementRetention, metrics []v1alpha1.Metric) (map[string]v1alpha1.MeasurementRetention, error) {
	out := map[string]v1alpha1.MeasurementRetention{}
	for i, r := range rules {
		names, err := matching("measurementRetention", i, r.MetricName, metrics)
		if err != nil {
			return out, err
		}
		for _, n := range names {
			out[n] = r
		}
	}
	return out, nil
}

// matching lists the metrics whose name the rule's pattern matches.
func matching(field string, i int, pattern string, metrics []v1alpha1.Metric) ([]string, error) {
	re, err := regexp.Compile(pattern)
	var names []string
	for _, m := range metrics {
		if err == nil && re.MatchString(m.Name) {
			names = append(names, m.Name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s[%d]: Rule didn't match any metric name(s)", field, i)
	}
	return names, nil
}
