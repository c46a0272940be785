package actions

import (
	"fmt"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Name is one rollout action.
type Name string

// The actions, as the dashboard names them in its URLs.
const (
	ActionPromote     Name = "promote"
	ActionPromoteFull Name = "promote-full"
	ActionAbort       Name = "abort"
	ActionRetry       Name = "retry"
	ActionPause       Name = "pause"
	ActionResume      Name = "resume"
	ActionRestart     Name = "restart"
)

// Names lists every action in the order a UI offers them.
func Names() []Name {
	return []Name{ActionPromote, ActionPromoteFull, ActionPause, ActionResume, ActionAbort, ActionRetry, ActionRestart}
}

// Parse returns the action called s.
func Parse(s string) (Name, error) {
	for _, n := range Names() {
		if string(n) == s {
			return n, nil
		}
	}
	return "", fmt.Errorf("unknown action %q", s)
}

// Subresources are the parts of a Rollout an action patches: "" (the object, for spec) and
// "status". A caller checks it may patch each of them before offering the action.
func (n Name) Subresources() []string {
	switch n {
	case ActionPromote, ActionPromoteFull:
		return []string{"", "status"}
	case ActionAbort, ActionRetry:
		return []string{"status"}
	}
	return []string{""}
}

// Plan is what an action will do to one rollout: the patch and the words that describe it.
type Plan struct {
	Name  Name
	Patch Patch
	Lines []string
}

// For plans action n on ro at time now.
func For(n Name, ro *v1alpha1.Rollout, now time.Time) (Plan, error) {
	p := Plan{Name: n}
	switch n {
	case ActionPromote, ActionPromoteFull:
		if ro.Spec.Strategy.Canary == nil && ro.Spec.Strategy.BlueGreen == nil {
			return p, fmt.Errorf("rollout %s has neither a canary nor a blueGreen strategy: nothing to promote", ro.Name)
		}
		full := n == ActionPromoteFull
		p.Patch, p.Lines = Promote(ro, full), PromotePlan(ro, full)
	case ActionAbort:
		p.Patch, p.Lines = Abort(), []string{"sets status.abort: traffic and replicas go back to the stable version"}
		if ro.Spec.Strategy.BlueGreen != nil {
			p.Lines = []string{"sets status.abort: the active Service goes back to the stable ReplicaSet, the new one scales down"}
		}
	case ActionRetry:
		p.Patch, p.Lines = Retry(), []string{"clears status.abort: the canary starts again from the first step"}
		if ro.Spec.Strategy.BlueGreen != nil {
			p.Lines = []string{"clears status.abort: the new ReplicaSet is previewed again (pre-promotion analysis runs again)"}
		}
	case ActionPause:
		p.Patch, p.Lines = Pause(), []string{"sets spec.paused: the rollout stays at its current step"}
	case ActionResume:
		p.Patch, p.Lines = Resume(), []string{"clears spec.paused (a pause step still needs promote)"}
	case ActionRestart:
		patch, at := Restart(now)
		p.Patch, p.Lines = patch, []string{"sets spec.restartAt " + at + ": the pods restart one by one"}
	default:
		return p, fmt.Errorf("unknown action %q", n)
	}
	return p, nil
}
