package cli

import (
	"context"

	"github.com/spf13/cobra"
)

// options is what a subcommand's Options implement: Complete fills them from the arguments,
// Validate checks the flags, Run does the work.
type options interface {
	Complete(args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// runOptions is the RunE of a subcommand: o's Complete, Validate and Run, in that order.
func runOptions(o options) func(cmd *cobra.Command, args []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.Complete(args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		return o.Run(cmd.Context())
	}
}

// rolloutTarget is the rollout a single-rollout subcommand acts on: its NAME argument and the
// clients of its namespace. Options embed it.
type rolloutTarget struct {
	Name string
	c    *clients
}

// complete takes the rollout NAME from args[0] and builds the clients (the typed Kubernetes
// client too when needKube).
func (t *rolloutTarget) complete(f *Factory, args []string, needKube bool) error {
	t.Name = args[0]
	c, err := f.clients(needKube)
	t.c = c
	return err
}
