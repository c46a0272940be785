package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	termview "github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/view"
	"github.com/nerve-rollouts/nerve/view"
)

const getRolloutExample = `  # the tree of a rollout
  kubectl nerve get rollout mllp-listener

  # watch it (redraws in place on a terminal, one line per change otherwise) until it pauses
  kubectl nerve get rollout mllp-listener -w --until paused --timeout 10m

  # structured output
  kubectl nerve get rollout mllp-listener -o jsonpath='{.status.phase}'`

// GetRolloutOptions are the options of `get rollout`.
type GetRolloutOptions struct {
	genericiooptions.IOStreams
	rolloutTarget
	f      *Factory
	output *outputFlags

	Watch     bool
	Revisions int
	Until     string
	Timeout   time.Duration
	NoColor   bool
	Interval  time.Duration

	until *until
}

// NewCmdGetRollout is `get rollout NAME`.
func NewCmdGetRollout(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &GetRolloutOptions{IOStreams: streams, f: f, output: newOutputFlags(), Revisions: 3, Interval: time.Second}
	cmd := &cobra.Command{
		Use:               "rollout NAME",
		Aliases:           []string{"ro", "rollouts"},
		Short:             "Show a rollout: status, step, weights, images, replicas and its tree",
		Long:              "Show a rollout: status, step, weights, images, replicas and the tree revisions → ReplicaSets → pods and AnalysisRuns with each metric's latest value against its condition.\n\nWith --until the exit code is 0 when reached, 3 when the rollout is degraded or aborted, 4 on timeout.",
		Example:           getRolloutExample,
		Args:              exactArgs(1, "a rollout NAME"),
		ValidArgsFunction: rolloutNames(f),
		RunE:              runOptions(o),
	}
	o.AddFlags(cmd)
	return cmd
}

// AddFlags registers the flags.
func (o *GetRolloutOptions) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVarP(&o.Watch, "watch", "w", o.Watch, "Watch the rollout; ends on Ctrl-C, --until or --timeout")
	fs.IntVar(&o.Revisions, "revisions", o.Revisions, "Show the newest N revisions (0: all)")
	fs.StringVar(&o.Until, "until", o.Until, "With -w: stop when the rollout is healthy, paused, completed or at step=N (implies -w)")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "With -w: stop after this long (exit 4 with --until); 0 waits forever")
	fs.BoolVar(&o.NoColor, "no-color", o.NoColor, "Do not colour the output (NO_COLOR is honoured too)")
	o.output.AddFlags(cmd)
}

// Complete fills the name and clients.
func (o *GetRolloutOptions) Complete(args []string) error {
	if o.Until != "" {
		o.Watch = true
	}
	return o.complete(o.f, args, true)
}

// Validate checks the flags.
func (o *GetRolloutOptions) Validate() error {
	if o.Revisions < 0 {
		return usageError("--revisions must be >= 0")
	}
	if o.Until != "" {
		u, err := parseUntil(o.Until)
		if err != nil {
			return usageErr(err)
		}
		o.until = &u
	}
	return o.output.Validate()
}

// Run prints the rollout once, or watches it.
func (o *GetRolloutOptions) Run(ctx context.Context) error {
	if !o.Watch {
		return o.once(ctx)
	}
	return o.watch(ctx)
}

func (o *GetRolloutOptions) style() termview.Style {
	return termview.Style{Color: o.f.Color(o.Out, o.NoColor), Wide: o.output.Wide(), Revisions: o.Revisions, Now: o.f.Now()}
}

func (o *GetRolloutOptions) once(ctx context.Context) error {
	s, err := o.c.read.Snapshot(ctx, o.c.ns, o.Name)
	if err != nil {
		return err
	}
	if !o.output.Human() {
		return o.output.Print(s.Raw, o.Out)
	}
	return termview.WriteRollout(o.Out, s.View, o.style())
}

// frame is what one watch iteration shows.
type frame struct {
	ro *v1alpha1.Rollout
	v  view.Rollout
}

func (o *GetRolloutOptions) watch(ctx context.Context) error {
	ctx, r := o.refresh(ctx, o.Timeout, o.Interval)
	defer r.stop()
	w := newWatchWriter(o)
	for {
		s, err := o.c.read.Snapshot(ctx, o.c.ns, o.Name)
		if err != nil {
			if ctx.Err() != nil {
				return o.watchEnded(ctx)
			}
			return err
		}
		ro, v := s.Object, s.View
		if err := w.write(s.Raw, frame{ro: ro, v: v}); err != nil {
			return err
		}
		if o.until != nil {
			switch o.until.check(ro) {
			case reached:
				return nil
			case degraded:
				return &ExitError{Code: ExitDegraded, Err: fmt.Errorf("rollout %s is %s: %s", o.Name, v.Status, v.Message)}
			}
		}
		if !r.wait(ctx) {
			return o.watchEnded(ctx)
		}
	}
}

func (o *GetRolloutOptions) watchEnded(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && o.until != nil {
		return &ExitError{Code: ExitTimeout, Err: fmt.Errorf("timed out after %s waiting for rollout %s to be %s", o.Timeout, o.Name, o.until)}
	}
	return nil
}

// watchWriter writes watch frames: a redraw in place on a terminal, event lines otherwise, or
// the object through the printer for -o.
type watchWriter struct {
	o     *GetRolloutOptions
	tty   bool
	lines int
	last  string
	seen  map[string]string
}

func newWatchWriter(o *GetRolloutOptions) *watchWriter {
	return &watchWriter{o: o, tty: o.f.IsTerminal(o.Out), seen: map[string]string{}}
}

func (w *watchWriter) write(u interface {
	GetResourceVersion() string
}, fr frame) error {
	o := w.o
	if !o.output.Human() {
		if u.GetResourceVersion() == w.last {
			return nil
		}
		w.last = u.GetResourceVersion()
		return o.output.Print(fr.ro, o.Out)
	}
	if w.tty {
		return w.redraw(fr)
	}
	return w.events(fr)
}

func (w *watchWriter) redraw(fr frame) error {
	var b bytes.Buffer
	if err := termview.WriteRollout(&b, fr.v, w.o.style()); err != nil {
		return err
	}
	s := b.String()
	if s == w.last {
		return nil
	}
	w.last = s
	var out strings.Builder
	if w.lines > 0 {
		fmt.Fprintf(&out, "\033[%dA\033[J", w.lines)
	}
	out.WriteString(s)
	w.lines = strings.Count(s, "\n")
	_, err := io.WriteString(w.o.Out, out.String())
	return err
}

func (w *watchWriter) events(fr frame) error {
	ts := w.o.f.Now().UTC().Format(time.RFC3339)
	for _, line := range EventLines(fr.v) {
		key, text, _ := strings.Cut(line, "\t")
		if w.seen[key] == text {
			continue
		}
		w.seen[key] = text
		if err := printf(w.o.Out, "%s %s\n", ts, text); err != nil {
			return err
		}
	}
	return nil
}

// EventLines are the keyed one-line summaries of a rollout and its AnalysisRuns ("key\ttext").
func EventLines(v view.Rollout) []string {
	step := v.Step
	if step == "" {
		step = "-"
	}
	lines := []string{fmt.Sprintf("rollout\trollout/%s %s %s step=%s weight=%s/%s ready=%d/%d%s",
		v.Name, v.Icon, v.Status, step, v.SetWeight, v.ActualWeight, v.Ready, v.Desired, quoted(v.Message))}
	for _, rev := range v.Revisions {
		for _, ar := range rev.AnalysisRuns {
			var ms []string
			for _, m := range ar.Metrics {
				if m.Value != "" {
					ms = append(ms, fmt.Sprintf("%s=%s", m.Name, m.Value))
				}
			}
			lines = append(lines, fmt.Sprintf("ar/%s\tanalysisrun/%s %s %s %s %s", ar.Name, ar.Name, ar.Icon, ar.Status,
				termview.RunCounts(ar), strings.Join(ms, " ")))
		}
	}
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return lines
}

func quoted(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf(" %q", s)
}
