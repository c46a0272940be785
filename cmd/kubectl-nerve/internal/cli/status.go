package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
	"github.com/nerve-rollouts/nerve/rollout/rules"
)

const statusLong = `Print the status of a rollout and wait until it reaches a state.

--until healthy (default), paused, completed (healthy and fully promoted) or step=N (the current
step index is at least N).

Exit codes:
  0  the state was reached
  1  error (API, network, not found)
  2  usage error
  3  the rollout is degraded or aborted
  4  --timeout passed first`

// StatusOptions are the options of `status`.
type StatusOptions struct {
	genericiooptions.IOStreams
	rolloutTarget
	f      *Factory
	output *outputFlags

	Until    string
	Timeout  time.Duration
	Watch    bool
	Interval time.Duration

	until until
}

// NewCmdStatus is `status NAME --until ... --timeout D`.
func NewCmdStatus(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &StatusOptions{IOStreams: streams, f: f, output: newOutputFlags(), Until: untilHealthy, Watch: true, Interval: time.Second}
	cmd := &cobra.Command{
		Use:               "status NAME",
		Short:             "Wait until a rollout is healthy, paused, completed or at step N (exit codes 0/3/4)",
		Long:              statusLong,
		Example:           "  kubectl nerve status mllp-listener --until paused --timeout 5m",
		Args:              exactArgs(1, "a rollout NAME"),
		ValidArgsFunction: rolloutNames(f),
		RunE:              runOptions(o),
	}
	o.AddFlags(cmd)
	return cmd
}

// AddFlags registers the flags.
func (o *StatusOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Until, "until", o.Until, "State to wait for: healthy, paused, completed or step=N")
	cmd.Flags().DurationVarP(&o.Timeout, "timeout", "t", 0, "Give up after this long (exit 4); 0 waits forever")
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", o.Watch, "Keep waiting; --watch=false checks once (exit 0 reached, 3 degraded, 4 not reached)")
	o.output.AddFlags(cmd)
}

// Complete fills the name and clients.
func (o *StatusOptions) Complete(args []string) error {
	return o.complete(o.f, args, false)
}

// Validate parses --until.
func (o *StatusOptions) Validate() error {
	u, err := parseUntil(o.Until)
	if err != nil {
		return usageErr(err)
	}
	if o.Timeout < 0 {
		return usageError("--timeout must be >= 0")
	}
	o.until = u
	return o.output.Validate()
}

// Run waits.
func (o *StatusOptions) Run(ctx context.Context) error {
	ctx, r := o.refresh(ctx, o.Timeout, o.Interval)
	defer r.stop()
	last := ""
	for {
		_, ro, err := o.c.getRollout(ctx, o.Name)
		if err != nil {
			if ctx.Err() != nil {
				return o.timedOut(ctx)
			}
			return err
		}
		line := statusLine(ro)
		if line != last {
			last = line
			if err := o.print(ro, line); err != nil {
				return err
			}
		}
		switch o.until.check(ro) {
		case reached:
			return nil
		case degraded:
			return &ExitError{Code: ExitDegraded, Err: fmt.Errorf("rollout %s: %s", o.Name, line)}
		}
		if !o.Watch {
			return &ExitError{Code: ExitTimeout, Err: fmt.Errorf("rollout %s is not %s", o.Name, o.until)}
		}
		if !r.wait(ctx) {
			return o.timedOut(ctx)
		}
	}
}

func (o *StatusOptions) print(ro *v1alpha1.Rollout, line string) error {
	if !o.output.Human() {
		return o.output.Print(ro, o.Out)
	}
	return printf(o.Out, "%s\n", line)
}

func (o *StatusOptions) timedOut(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &ExitError{Code: ExitTimeout, Err: fmt.Errorf("timed out after %s waiting for rollout %s to be %s", o.Timeout, o.Name, o.until)}
	}
	return ctx.Err()
}

// statusLine is "Phase - message" with the step.
func statusLine(ro *v1alpha1.Rollout) string {
	phase, msg := rules.ObservedPhase(ro)
	s := string(phase)
	if msg != "" {
		s += " - " + msg
	}
	if _, idx := canary.CurrentStep(ro); idx != nil {
		s += fmt.Sprintf(" (step %d/%d)", *idx, len(canary.Steps(ro)))
	}
	return s
}
