package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	termview "github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/view"
	"github.com/nerve-rollouts/nerve/view"
)

// TrafficOptions are the options of `traffic`.
type TrafficOptions struct {
	genericiooptions.IOStreams
	rolloutTarget
	f      *Factory
	output *outputFlags
}

// NewCmdTraffic is `traffic NAME`: current weights per traffic router.
func NewCmdTraffic(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &TrafficOptions{IOStreams: streams, f: f, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "traffic NAME",
		Short: "Show the live weights per traffic router (Gateway API backendRefs, MLLP proxy replicas)",
		Long: `Show the weights the routers apply right now, read from the routing objects, not from the Rollout:
Gateway API routes named in the Rollout's plugin config (backendRefs and their share per rule),
and the MLLPRoute (mllp.nerve.io) with each proxy replica's applied weight and observed message share.`,
		Args:              exactArgs(1, "a rollout NAME"),
		ValidArgsFunction: rolloutNames(f),
		RunE:              runOptions(o),
	}
	o.output.AddFlags(cmd)
	return cmd
}

// Complete fills the name and clients, the Gateway API client too.
func (o *TrafficOptions) Complete(args []string) error {
	if err := o.complete(o.f, args, false); err != nil {
		return err
	}
	gw, err := o.f.Gateway()
	o.c.read.Gateway = gw
	return err
}

// Validate checks -o.
func (o *TrafficOptions) Validate() error { return o.output.Validate() }

// Run reads the routes.
func (o *TrafficOptions) Run(ctx context.Context) error {
	rep, err := o.c.read.Traffic(ctx, o.c.ns, o.Name)
	if err != nil {
		return err
	}
	if !o.output.Human() {
		r, err := report("TrafficReport", o.Name, rep)
		if err != nil {
			return err
		}
		return o.output.Print(r, o.Out)
	}
	return writeTraffic(o.Out, rep)
}

func writeTraffic(w interface{ Write([]byte) (int, error) }, rep view.Traffic) error {
	if err := printf(w, "Rollout: %s  SetWeight: %s  ActualWeight: %s\n", rep.Rollout, rep.SetWeight, dash(rep.ActualWeight)); err != nil {
		return err
	}
	if len(rep.Backends) > 0 {
		rows := make([][]string, 0, len(rep.Backends))
		for _, b := range rep.Backends {
			rows = append(rows, []string{b.Router, b.Route, fmt.Sprint(b.Rule), b.Backend, dash(b.Role), fmt.Sprint(b.Weight), b.Share})
		}
		if err := printf(w, "\n"); err != nil {
			return err
		}
		if err := termview.Table(w, []string{"ROUTER", "ROUTE", "RULE", "BACKEND", "ROLE", "WEIGHT", "SHARE"}, rows); err != nil {
			return err
		}
	}
	if len(rep.MLLP) > 0 {
		rows := make([][]string, 0, len(rep.MLLP))
		for _, r := range rep.MLLP {
			state := "ready"
			if !r.Ready {
				state = "not ready"
			}
			if !r.Fresh {
				state += ",stale"
			}
			rows = append(rows, []string{r.Router, r.Route, r.Replica, r.Weight, state, fmt.Sprint(r.StableMessages),
				fmt.Sprint(r.CanaryMessages), r.CanaryShare, dash(r.Message)})
		}
		if err := printf(w, "\n"); err != nil {
			return err
		}
		if err := termview.Table(w, []string{"ROUTER", "ROUTE", "REPLICA", "WEIGHT", "STATE", "STABLE-MSGS", "CANARY-MSGS", "CANARY-SHARE", "MESSAGE"}, rows); err != nil {
			return err
		}
	}
	for _, p := range rep.Problems {
		if err := printf(w, "\nnote: %s", p); err != nil {
			return err
		}
	}
	if len(rep.Problems) > 0 {
		return printf(w, "\n")
	}
	return nil
}
