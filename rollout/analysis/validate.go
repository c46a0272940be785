package analysis

import (
	"fmt"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// secretPlaceholder stands in for secretKeyRef arguments while a spec is validated (the
// Secret is read only when a measurement is taken), as Argo's validation does.
const secretPlaceholder = "temp-for-secret"

// ResolveWithoutSecrets substitutes the run's arguments into every metric, with a placeholder
// for secretKeyRef values: the metrics as validation sees them (Argo's
// getResolvedMetricsWithoutSecrets).
func ResolveWithoutSecrets(metrics []v1alpha1.Metric, args []v1alpha1.Argument) ([]v1alpha1.Metric, error) {
	values := map[string]string{}
	for _, a := range args {
		switch {
		case a.ValueFrom != nil && a.ValueFrom.SecretKeyRef != nil:
			values[a.Name] = secretPlaceholder
		case a.Value != nil:
			values[a.Name] = *a.Value
		}
	}
	out := make([]v1alpha1.Metric, 0, len(metrics))
	for _, m := range metrics {
		r, err := Substitute(m, values)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// ValidateMetrics checks metrics as Argo's ValidateMetrics does, with its wording: at least
// one metric, unique names, and each metric valid ("metrics[i]: <why>").
func ValidateMetrics(metrics []v1alpha1.Metric) error {
	if len(metrics) == 0 {
		return fmt.Errorf("no metrics specified")
	}
	seen := map[string]bool{}
	for i, m := range metrics {
		if seen[m.Name] {
			return fmt.Errorf("metrics[%d]: duplicate name '%s'", i, m.Name)
		}
		seen[m.Name] = true
		if err := ValidateMetric(m); err != nil {
			return fmt.Errorf("metrics[%d]: %v", i, err)
		}
	}
	return nil
}

// ValidateMetric checks one metric in Argo's order: the limits, count against the limits and
// the interval, the durations, and exactly one provider.
func ValidateMetric(m v1alpha1.Metric) error {
	if err := validateLimits(m); err != nil {
		return err
	}
	if err := validateCount(m); err != nil {
		return err
	}
	if m.Interval != "" {
		if _, err := time.ParseDuration(string(m.Interval)); err != nil {
			return fmt.Errorf("invalid interval string: %v", err)
		}
	}
	if m.InitialDelay != "" {
		if _, err := time.ParseDuration(string(m.InitialDelay)); err != nil {
			return fmt.Errorf("invalid startDelay string: %v", err)
		}
	}
	switch n := providerCount(m.Provider); {
	case n == 0:
		return fmt.Errorf("no provider specified")
	case n > 1:
		return fmt.Errorf("multiple providers specified")
	}
	return nil
}

func validateLimits(m v1alpha1.Metric) error {
	success, failure := intOr(m.ConsecutiveSuccessLimit, 0), intOr(m.FailureLimit, 0)
	switch {
	case success < 0:
		return fmt.Errorf("consecutiveSuccessLimit must be >= 0")
	case failure < -1:
		return fmt.Errorf("failureLimit must be >= 0, or -1 to be disabled")
	case success == 0 && failure == -1:
		return fmt.Errorf("failureLimit and consecutiveSuccessLimit cannot both be disabled")
	case intOr(m.InconclusiveLimit, 0) < 0:
		return fmt.Errorf("inconclusiveLimit must be >= 0")
	case m.ConsecutiveErrorLimit != nil && m.ConsecutiveErrorLimit.IntValue() < 0:
		return fmt.Errorf("consecutiveErrorLimit must be >= 0")
	}
	return nil
}

func validateCount(m v1alpha1.Metric) error {
	count := intOr(m.Count, 0)
	success, failure, inconclusive := intOr(m.ConsecutiveSuccessLimit, 0), intOr(m.FailureLimit, 0), intOr(m.InconclusiveLimit, 0)
	if count > 0 {
		switch {
		case failure >= 0 && count < failure+success:
			return fmt.Errorf("count (%d) must be >= failureLimit + consecutiveSuccessLimit (%d + %d) if both >= 0", count, failure, success)
		case failure < 0 && count < success:
			return fmt.Errorf("count must be >= consecutiveSuccessLimit")
		case count < inconclusive:
			return fmt.Errorf("count must be >= inconclusiveLimit")
		}
	}
	if count > 1 && m.Interval == "" {
		return fmt.Errorf("interval must be specified when count > 1")
	}
	return nil
}

// providerCount counts the provider blocks of a metric, each plugin entry as one (Argo allows
// exactly one).
func providerCount(p v1alpha1.MetricProvider) int {
	n := len(p.Plugin) + len(p.Other)
	for _, set := range []bool{p.Prometheus != nil, p.Web != nil, p.Job != nil} {
		if set {
			n++
		}
	}
	return n
}

// UnboundedMetrics names the metrics that would run until the run is terminated (an interval
// without a count): Argo refuses them in a step analysis, which must end by itself, with
// "AnalysisTemplate <t> has metric <m> which runs indefinitely. Invalid value for count: <count>".
func UnboundedMetrics(metrics []v1alpha1.Metric) []v1alpha1.Metric {
	var out []v1alpha1.Metric
	for _, m := range metrics {
		if EffectiveCount(m) == 0 {
			out = append(out, m)
		}
	}
	return out
}
