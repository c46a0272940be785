package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/rules"
)

// Until targets.
const (
	untilHealthy   = "healthy"
	untilPaused    = "paused"
	untilCompleted = "completed"
	untilStep      = "step"
)

// until is a parsed --until value.
type until struct {
	kind string
	step int32
}

func parseUntil(s string) (until, error) {
	switch s {
	case untilHealthy, untilPaused, untilCompleted:
		return until{kind: s}, nil
	}
	if v, ok := strings.CutPrefix(s, untilStep+"="); ok {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			return until{}, fmt.Errorf("--until %q: step must be a non-negative integer", s)
		}
		return until{kind: untilStep, step: int32(n)}, nil
	}
	return until{}, fmt.Errorf("--until %q: want healthy, paused, completed or step=N", s)
}

func (u until) String() string {
	if u.kind == untilStep {
		return fmt.Sprintf("step=%d", u.step)
	}
	return u.kind
}

// verdict is the result of checking a rollout against an until target.
type verdict int

const (
	waiting verdict = iota
	reached
	degraded
)

// check evaluates ro against u. Degraded or aborted beats everything but an already reached
// paused/healthy target.
func (u until) check(ro *v1alpha1.Rollout) verdict {
	phase, msg := rules.ObservedPhase(ro)
	if ro.Status.Abort {
		return degraded
	}
	if phase == v1alpha1.RolloutPhaseDegraded {
		if strings.HasPrefix(msg, rules.ReasonRolloutAborted) {
			// status.abort is false again: a retry the controller has not reconciled yet.
			return waiting
		}
		return degraded
	}
	ok := false
	switch u.kind {
	case untilHealthy:
		ok = phase == v1alpha1.RolloutPhaseHealthy
	case untilPaused:
		ok = phase == v1alpha1.RolloutPhasePaused
	case untilCompleted:
		ok = phase == v1alpha1.RolloutPhaseHealthy && rules.FullyPromoted(ro)
	case untilStep:
		ok = ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex >= u.step && observed(ro)
	}
	if ok {
		return reached
	}
	return waiting
}

func observed(ro *v1alpha1.Rollout) bool {
	n, err := strconv.ParseInt(ro.Status.ObservedGeneration, 10, 64)
	return err != nil || n >= ro.Generation
}
