package rollout

import (
	"context"
	"fmt"
)

// strategy is the part of a reconcile that depends on spec.strategy. The shared rolloutCtx
// does the rest: ReplicaSet classification, pod and step hashes, the new ReplicaSet and its
// revision, revision history, restarts, conditions, phase and the status write. A strategy
// reads and writes the shared context (it holds it), and is chosen per reconcile from the
// Rollout's spec once the spec is valid.
type strategy interface {
	// startRevision sets the strategy's part of the status when a new pod template becomes
	// current; first says there was no stable ReplicaSet (the new one is stable at once).
	startRevision(first bool)
	// progress moves the Rollout one reconcile towards the strategy's goal: Services, traffic,
	// analysis and ReplicaSet scaling, then the strategy's status (steps, pauses, abort,
	// promotion). The caller writes conditions and phase after it, and persists the status
	// whatever it returns.
	progress(ctx context.Context) error
}

// strategyFor picks the strategy of spec.strategy. Validation refuses every other strategy
// first, so the error only guards a validation gap. canary lives in canary*.go, blueGreen in
// bluegreen*.go.
func (rc *rolloutCtx) strategyFor() (strategy, error) {
	if rc.ro.Spec.Strategy.Canary != nil {
		return &canaryStrategy{rc}, nil
	}
	if rc.ro.Spec.Strategy.BlueGreen != nil {
		return &blueGreenStrategy{rolloutCtx: rc}, nil
	}
	return nil, fmt.Errorf("rollout %s/%s: no supported strategy in spec.strategy", rc.ro.Namespace, rc.ro.Name)
}
