package prometheus

import (
	"fmt"
	"strings"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/metricprovider/evaluate"
)

// judge decides a measurement's phase and message from the mapped result: first the nerve
// policies for empty and NaN results, then Argo's conditions and truth table.
func judge(cfg Config, m v1alpha1.Metric, res Result) (v1alpha1.AnalysisPhase, string) {
	if phase, msg, ok := applyPolicy(cfg, res); ok {
		return phase, withQuery(msg, cfg.Query)
	}
	out := evaluate.Evaluate(res.Value, m.SuccessCondition, m.FailureCondition)
	if out.Phase == v1alpha1.AnalysisPhaseError {
		return out.Phase, withQuery(fmt.Sprintf("%v; value %s", out.Err, res.Text), cfg.Query)
	}
	return out.Phase, withQuery(describeOutcome(m, res, out), cfg.Query)
}

// applyPolicy applies emptyResult / nanResult; ok is false when the conditions must decide.
func applyPolicy(cfg Config, res Result) (v1alpha1.AnalysisPhase, string, bool) {
	if res.Empty {
		if phase, ok := cfg.EmptyResult.Phase(); ok {
			return phase, fmt.Sprintf("value %s: empty result (the query matched no series): %s by emptyResult policy %q (conditions not evaluated)", res.Text, phase, cfg.EmptyResult), true
		}
	}
	if res.NaN {
		if phase, ok := cfg.NaNResult.Phase(); ok {
			return phase, fmt.Sprintf("value %s: result is NaN (e.g. no observations in the window): %s by nanResult policy %q (conditions not evaluated)", res.Text, phase, cfg.NaNResult), true
		}
	}
	return "", "", false
}

// describeOutcome words the evaluation: value, each condition with its outcome, the phase and why.
func describeOutcome(m v1alpha1.Metric, res Result, out evaluate.Outcome) string {
	var b strings.Builder
	evaluate.Describe(&b, m, res.Text, out)
	fmt.Fprintf(&b, " -> %s", out.Phase)
	if why := reason(m, out); why != "" {
		fmt.Fprintf(&b, " (%s)", why)
	}
	if hint := dataHint(res); hint != "" {
		fmt.Fprintf(&b, "; note: %s", hint)
	}
	return b.String()
}

func reason(m v1alpha1.Metric, out evaluate.Outcome) string {
	hasS, hasF := m.SuccessCondition != "", m.FailureCondition != ""
	switch {
	case !hasS && !hasF:
		return "no conditions set"
	case hasS && !hasF && !out.Success:
		return "successCondition is false and no failureCondition is set"
	case !hasS && hasF && !out.Failure:
		return "failureCondition is false and no successCondition is set"
	case hasS && hasF && !out.Success && !out.Failure:
		return "neither condition is true"
	}
	return ""
}

// dataHint warns when a phase was decided on an empty or NaN result without a policy.
func dataHint(res Result) string {
	switch {
	case res.Empty:
		return "the result is empty; set emptyResult to decide such results explicitly"
	case res.NaN:
		return "the result contains NaN, which compares false; set nanResult to decide such results explicitly"
	}
	return ""
}
