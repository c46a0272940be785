package dashboard

import (
	"context"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/view"
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

// Traffic is what the routers apply right now.
type Traffic struct {
	SetWeight, ActualWeight string
	Backends                []Backend
	MLLP                    []MLLPReplica
	Problems                []string
}

// Backend is one backendRef of a Gateway API route rule.
type Backend struct {
	Router, Route string
	Rule          int
	Backend, Role string
	Weight        int32
	Share         string
}

// MLLPReplica is one MLLP proxy replica's report of an MLLPRoute: counts and shares only.
type MLLPReplica struct {
	Router, Route, Replica, Weight string
	Ready, Fresh                   bool
	StableMessages, CanaryMessages int64
	CanaryShare, Message           string
}

// Event is one Kubernetes event of the rollout.
type Event struct {
	Type, Reason, Message string
	Count                 int32
	Last                  time.Time
}
