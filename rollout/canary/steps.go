package canary

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// DefaultMaxWeight is the total traffic weight when maxTrafficWeight is unset.
const DefaultMaxWeight int32 = 100

// Steps returns the canary steps of ro (nil without a canary strategy).
func Steps(ro *v1alpha1.Rollout) []v1alpha1.CanaryStep {
	if ro.Spec.Strategy.Canary == nil {
		return nil
	}
	return ro.Spec.Strategy.Canary.Steps
}

// CurrentStep returns the current step and its index. Without steps both are nil; after the last
// step the step is nil and the index equals len(steps).
func CurrentStep(ro *v1alpha1.Rollout) (*v1alpha1.CanaryStep, *int32) {
	steps := Steps(ro)
	if len(steps) == 0 {
		return nil, nil
	}
	idx := int32(0)
	if ro.Status.CurrentStepIndex != nil {
		idx = *ro.Status.CurrentStepIndex
	}
	if int(idx) >= len(steps) || idx < 0 {
		return nil, &idx
	}
	return &steps[idx], &idx
}

// MaxWeight is spec.strategy.canary.trafficRouting.maxTrafficWeight, default 100.
func MaxWeight(ro *v1alpha1.Rollout) int32 {
	c := ro.Spec.Strategy.Canary
	if c != nil && c.TrafficRouting != nil && c.TrafficRouting.MaxTrafficWeight != nil {
		return *c.TrafficRouting.MaxTrafficWeight
	}
	return DefaultMaxWeight
}

// CurrentSetWeight is the weight of the last setWeight at or before the current step: 0 when
// aborted or before any setWeight, the max weight once every step is done.
func CurrentSetWeight(ro *v1alpha1.Rollout) int32 {
	if ro.Status.Abort {
		return 0
	}
	step, idx := CurrentStep(ro)
	if step == nil {
		return MaxWeight(ro)
	}
	steps := Steps(ro)
	for i := *idx; i >= 0; i-- {
		if w := steps[i].SetWeight; w != nil {
			return *w
		}
	}
	return 0
}

// PauseDuration returns the duration of a timed pause; ok is false for an indefinite pause.
// An integer means seconds; a string is a Go duration, or a bare number of seconds.
func PauseDuration(p *v1alpha1.RolloutPause) (d time.Duration, ok bool, err error) {
	if p == nil || p.Duration == nil {
		return 0, false, nil
	}
	if p.Duration.Type == intstr.Int {
		return time.Duration(p.Duration.IntVal) * time.Second, true, nil
	}
	return ParseDuration(p.Duration.StrVal)
}

// ParseDuration parses a Go duration string or a bare integer number of seconds.
func ParseDuration(s string) (time.Duration, bool, error) {
	if s == "" {
		return 0, false, nil
	}
	var secs int64
	if _, err := fmt.Sscanf(s, "%d", &secs); err == nil && fmt.Sprint(secs) == s {
		return time.Duration(secs) * time.Second, true, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, false, fmt.Errorf("invalid duration %q: %w", s, err)
	}
	return d, true, nil
}

// StepString renders a step the way Argo's events do ("setWeight: 5", "pause: 30s", ...).
func StepString(s v1alpha1.CanaryStep) string {
	switch {
	case s.SetWeight != nil:
		return fmt.Sprintf("setWeight: %d", *s.SetWeight)
	case s.Pause != nil:
		if s.Pause.Duration != nil {
			return "pause: " + s.Pause.Duration.String()
		}
		return "pause"
	case s.Experiment != nil:
		return "experiment"
	case s.Analysis != nil:
		return "analysis"
	case s.SetCanaryScale != nil:
		return canaryScaleString(s.SetCanaryScale)
	case s.Plugin != nil:
		return "plugin: " + s.Plugin.Name
	case s.SetHeaderRoute != nil:
		return "setHeaderRoute: " + s.SetHeaderRoute.Name
	case s.SetMirrorRoute != nil:
		return "setMirrorRoute: " + s.SetMirrorRoute.Name
	}
	return "invalid"
}

func canaryScaleString(s *v1alpha1.SetCanaryScale) string {
	switch {
	case s.Weight != nil:
		return fmt.Sprintf("setCanaryScale{weight: %d}", *s.Weight)
	case s.MatchTrafficWeight:
		return "setCanaryScale{matchTrafficWeight: true}"
	case s.Replicas != nil:
		return fmt.Sprintf("setCanaryScale{replicas: %d}", *s.Replicas)
	}
	return "invalid"
}

// ActiveCanaryScale returns the setCanaryScale in force at the current step (trafficRouting only;
// ignored after an abort unless abortScaleDownDelaySeconds is 0, and cancelled by a later
// matchTrafficWeight).
func ActiveCanaryScale(ro *v1alpha1.Rollout) *v1alpha1.SetCanaryScale {
	c := ro.Spec.Strategy.Canary
	if c == nil || c.TrafficRouting == nil {
		return nil
	}
	if ro.Status.Abort && !(c.AbortScaleDownDelaySeconds != nil && *c.AbortScaleDownDelaySeconds == 0) {
		return nil
	}
	step, idx := CurrentStep(ro)
	if step == nil {
		return nil
	}
	for i := *idx; i >= 0; i-- {
		s := c.Steps[i].SetCanaryScale
		if s == nil {
			continue
		}
		if s.MatchTrafficWeight {
			return nil
		}
		return s
	}
	return nil
}

// BeforeStartingStep reports whether background analysis has not reached its startingStep yet.
func BeforeStartingStep(ro *v1alpha1.Rollout) bool {
	c := ro.Spec.Strategy.Canary
	if c == nil || c.Analysis == nil || c.Analysis.StartingStep == nil {
		return false
	}
	_, idx := CurrentStep(ro)
	if idx == nil {
		return false
	}
	return *idx < *c.Analysis.StartingStep
}
