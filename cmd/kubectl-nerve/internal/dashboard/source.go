package dashboard

import (
	"context"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
	"github.com/nerve-rollouts/nerve/view"
)

// Source reads what the pages show.
type Source interface {
	// List returns the rollouts of namespaces (nil: every namespace), with their ReplicaSets and
	// AnalysisRuns folded in (weights, revisions, analysis verdicts).
	List(ctx context.Context, namespaces []string) ([]view.Rollout, error)
	// Rollout returns everything the page of one rollout shows.
	Rollout(ctx context.Context, ns, name string) (Detail, error)
}

// Patcher sends an action's patch to a rollout.
type Patcher interface {
	Patch(ctx context.Context, ns, name string, p actions.Patch) error
}

// Detail is one rollout's page: the view, the object itself (for steps and action plans), its
// AnalysisRuns (for the measurement history), the routers' live weights and the events.
type Detail struct {
	View    view.Rollout
	Object  *v1alpha1.Rollout
	Runs    []v1alpha1.AnalysisRun
	Traffic Traffic
	Events  []Event
}

// Traffic is what the routers apply right now: the shared read side's model (counts and
// shares only, no message content).
type Traffic = view.Traffic

// Backend is one backendRef of a Gateway API route rule.
type Backend = view.BackendWeight

// MLLPReplica is one MLLP proxy replica's report of an MLLPRoute.
type MLLPReplica = view.MLLPReplica

// Event is one Kubernetes event of the rollout.
type Event struct {
	Type, Reason, Message string
	Count                 int32
	Last                  time.Time
}
