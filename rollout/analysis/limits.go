package analysis

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// Defaults as in Argo Rollouts.
const (
	DefaultConsecutiveErrorLimit = 4
	DefaultErrorRetryInterval    = 10 * time.Second
	DefaultMeasurementRetention  = 10
)

func intOr(v *intstr.IntOrString, def int32) int32 {
	if v == nil {
		return def
	}
	return int32(v.IntValue())
}

// EffectiveCount is count, or 1 for a metric without interval and count; 0 means unbounded.
func EffectiveCount(m v1alpha1.Metric) int32 {
	if m.Count == nil || m.Count.IntValue() == 0 {
		if m.Interval == "" {
			return 1
		}
		return 0
	}
	return int32(m.Count.IntValue())
}

// limitBreached returns the phase and message when failureLimit, inconclusiveLimit or
// consecutiveErrorLimit is exceeded (later checks win, as in Argo).
func limitBreached(m v1alpha1.Metric, r v1alpha1.MetricResult) (v1alpha1.AnalysisPhase, string) {
	var phase v1alpha1.AnalysisPhase
	var msg string
	if fl := intOr(m.FailureLimit, 0); fl >= 0 && r.Failed > fl {
		phase, msg = v1alpha1.AnalysisPhaseFailed, fmt.Sprintf("failed (%d) > failureLimit (%d)", r.Failed, fl)
	}
	if il := intOr(m.InconclusiveLimit, 0); r.Inconclusive > il {
		phase, msg = v1alpha1.AnalysisPhaseInconclusive, fmt.Sprintf("inconclusive (%d) > inconclusiveLimit (%d)", r.Inconclusive, il)
	}
	if el := intOr(m.ConsecutiveErrorLimit, DefaultConsecutiveErrorLimit); r.ConsecutiveError > el {
		phase, msg = v1alpha1.AnalysisPhaseError, fmt.Sprintf("consecutiveErrors (%d) > consecutiveErrorLimit (%d)", r.ConsecutiveError, el)
	}
	return phase, msg
}

// assessMetric computes a metric's phase from its counters (Argo's assessMetricStatus).
func assessMetric(m v1alpha1.Metric, r v1alpha1.MetricResult, terminating bool) v1alpha1.AnalysisPhase {
	if r.Phase.Completed() {
		return r.Phase
	}
	if len(r.Measurements) == 0 {
		if terminating {
			return v1alpha1.AnalysisPhaseSuccessful
		}
		return v1alpha1.AnalysisPhasePending
	}
	if !r.Measurements[len(r.Measurements)-1].Phase.Completed() {
		return v1alpha1.AnalysisPhaseRunning
	}
	if p, _ := limitBreached(m, r); p != "" {
		return p
	}
	success := intOr(m.ConsecutiveSuccessLimit, 0)
	if success > 0 && r.ConsecutiveSuccess >= success {
		return v1alpha1.AnalysisPhaseSuccessful
	}
	if n := EffectiveCount(m); n > 0 && r.Count >= n {
		failureApplies := intOr(m.FailureLimit, 0) >= 0
		switch {
		case success > 0 && failureApplies:
			return v1alpha1.AnalysisPhaseInconclusive
		case success > 0:
			return v1alpha1.AnalysisPhaseFailed
		}
		return v1alpha1.AnalysisPhaseSuccessful
	}
	if terminating {
		return v1alpha1.AnalysisPhaseSuccessful
	}
	return v1alpha1.AnalysisPhaseRunning
}

// nextMeasurementAt returns when the metric wants its next measurement, or ok=false when it
// wants none (completed, count reached, or once-only).
func nextMeasurementAt(run *v1alpha1.AnalysisRun, m v1alpha1.Metric, r *v1alpha1.MetricResult) (time.Time, bool) {
	if r != nil && r.Phase.Completed() {
		return time.Time{}, false
	}
	var last *v1alpha1.Measurement
	if r != nil && len(r.Measurements) > 0 {
		last = &r.Measurements[len(r.Measurements)-1]
	}
	if last == nil {
		start := time.Time{}
		if run.Status.StartedAt != nil {
			start = run.Status.StartedAt.Time
		}
		d, _, err := canary.ParseDuration(string(m.InitialDelay))
		if err != nil {
			return time.Time{}, false
		}
		return start.Add(d), true
	}
	if last.FinishedAt == nil {
		if last.ResumeAt != nil {
			return last.ResumeAt.Time, true
		}
		return time.Time{}, true
	}
	if n := EffectiveCount(m); n > 0 && r.Count >= n && last.Phase != v1alpha1.AnalysisPhaseError {
		return time.Time{}, false
	}
	return nextAfterFinished(m, last)
}

func nextAfterFinished(m v1alpha1.Metric, last *v1alpha1.Measurement) (time.Time, bool) {
	interval, hasInterval, err := canary.ParseDuration(string(m.Interval))
	if err != nil {
		return time.Time{}, false
	}
	if last.Phase == v1alpha1.AnalysisPhaseError {
		if !hasInterval || interval > DefaultErrorRetryInterval {
			interval = DefaultErrorRetryInterval
		}
		return last.FinishedAt.Add(interval), true
	}
	if !hasInterval {
		return time.Time{}, false
	}
	return last.FinishedAt.Add(interval), true
}
