package cli

import (
	"context"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
)

// apply sends p to the named rollout of c's namespace (actions.Apply: status first, then spec).
func (c *clients) apply(ctx context.Context, name string, p actions.Patch) error {
	return actions.Apply(ctx, c.rollouts(), name, p)
}
