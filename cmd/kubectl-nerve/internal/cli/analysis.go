package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	termview "github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/view"
	"github.com/nerve-rollouts/nerve/view"
)

// AnalysisOptions are the options of `analysis`.
type AnalysisOptions struct {
	genericiooptions.IOStreams
	rolloutTarget
	f      *Factory
	output *outputFlags

	All bool
}

// NewCmdAnalysis is `analysis NAME`: the measurements table of a rollout's AnalysisRuns.
func NewCmdAnalysis(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &AnalysisOptions{IOStreams: streams, f: f, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:               "analysis NAME",
		Short:             "Show the latest measurement of every metric: value, condition, verdict, resolved query, time left",
		Long:              "Show the AnalysisRuns of a rollout's current revision (--all: every revision) as a table of metrics:\nthe latest measured value, the condition it is judged against, the verdict, the query as the provider\nresolved it (MetricResult.Metadata) and the time left until the metric is done.",
		Args:              exactArgs(1, "a rollout NAME"),
		ValidArgsFunction: rolloutNames(f),
		RunE:              runOptions(o),
	}
	cmd.Flags().BoolVar(&o.All, "all", false, "AnalysisRuns of every revision, not only the current one")
	o.output.AddFlags(cmd)
	return cmd
}

// Complete fills the name and clients.
func (o *AnalysisOptions) Complete(args []string) error {
	return o.complete(o.f, args, false)
}

// Validate checks -o.
func (o *AnalysisOptions) Validate() error { return o.output.Validate() }

// Run prints the table.
func (o *AnalysisOptions) Run(ctx context.Context) error {
	_, ro, err := o.c.getRollout(ctx, o.Name)
	if err != nil {
		return err
	}
	runs, raw, err := o.c.read.AnalysisRuns(ctx, o.c.ns, ro.UID)
	if err != nil {
		return err
	}
	var keep []int
	for i := range runs {
		if o.All || current(ro, &runs[i]) {
			keep = append(keep, i)
		}
	}
	if !o.output.Human() {
		list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": v1alpha1.GroupVersion().String(), "kind": "AnalysisRunList"}}
		for _, i := range keep {
			list.Items = append(list.Items, raw[i])
		}
		return o.output.Print(list, o.Out)
	}
	if len(keep) == 0 {
		return printf(o.ErrOut, "No AnalysisRuns for rollout %s (--all shows older revisions).\n", o.Name)
	}
	var rows [][]string
	for _, i := range keep {
		for _, m := range view.Metrics(&runs[i], o.f.Now()) {
			rows = append(rows, []string{runs[i].Name, m.Name, dash(m.Value), dash(m.Condition), m.Icon + " " + m.Phase,
				fmt.Sprintf("%d/%s", m.Measured, m.Count), m.TimeLeft, dash(m.Query)})
		}
	}
	return termview.Table(o.Out, []string{"ANALYSISRUN", "METRIC", "VALUE", "CONDITION", "VERDICT", "MEASURED", "TIME-LEFT", "QUERY"}, rows)
}

// current reports whether run belongs to the rollout's current pod template.
func current(ro *v1alpha1.Rollout, run *v1alpha1.AnalysisRun) bool {
	hash := run.Labels[v1alpha1.DefaultRolloutUniqueLabelKey]
	return hash == "" || hash == ro.Status.CurrentPodHash
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
