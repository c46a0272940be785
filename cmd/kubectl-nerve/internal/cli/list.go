package cli

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	termview "github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/view"
	"github.com/nerve-rollouts/nerve/rollout/rules"
	"github.com/nerve-rollouts/nerve/view"
)

// NewCmdList is `list`, the parent of `list rollouts`.
func NewCmdList(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	return newGroupCmd("list", "List rollouts", "rollouts", NewCmdListRollouts(streams, f))
}

// ListRolloutsOptions are the options of `list rollouts`.
type ListRolloutsOptions struct {
	genericiooptions.IOStreams
	f      *Factory
	output *outputFlags

	AllNamespaces bool
	Waiting       bool
	Selector      string

	c *clients
}

// NewCmdListRollouts is `list rollouts [-A] [--waiting]`.
func NewCmdListRollouts(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &ListRolloutsOptions{IOStreams: streams, f: f, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:     "rollouts",
		Aliases: []string{"rollout", "ro"},
		Short:   "List rollouts; --waiting shows only those paused and awaiting promotion",
		Example: "  kubectl nerve list rollouts -A --waiting",
		Args:    exactArgs(0, "no arguments"),
		RunE:    runOptions(o),
	}
	o.AddFlags(cmd)
	return cmd
}

// AddFlags registers the flags.
func (o *ListRolloutsOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "List rollouts in every namespace")
	cmd.Flags().BoolVar(&o.Waiting, "waiting", false, "Only rollouts paused and awaiting promotion")
	cmd.Flags().StringVarP(&o.Selector, "selector", "l", "", "Label selector")
	o.output.AddFlags(cmd)
}

// Complete builds the clients (list rollouts takes no arguments).
func (o *ListRolloutsOptions) Complete(_ []string) error {
	c, err := o.f.clients(false)
	if err != nil {
		return err
	}
	if o.AllNamespaces {
		c.ns = metav1.NamespaceAll
	}
	o.c = c
	return nil
}

// Validate checks -o.
func (o *ListRolloutsOptions) Validate() error { return o.output.Validate() }

// Run lists.
func (o *ListRolloutsOptions) Run(ctx context.Context) error {
	list, err := o.c.read.List(ctx, o.c.ns, o.Selector)
	if err != nil {
		return err
	}
	keep := &unstructured.UnstructuredList{Object: list.Raw.Object}
	var rows [][]string
	for _, it := range list.Items {
		if o.Waiting && !AwaitingPromotion(it.Object) {
			continue
		}
		keep.Items = append(keep.Items, *it.Raw)
		rows = append(rows, o.row(it.Object, it.View))
	}
	if !o.output.Human() {
		keep.SetAPIVersion(v1alpha1.GroupVersion().String())
		keep.SetKind("RolloutList")
		return o.output.Print(keep, o.Out)
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(o.ErrOut, "No rollouts found.")
		return err
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i][0]+"/"+rows[i][1] < rows[j][0]+"/"+rows[j][1] })
	header := []string{"NAMESPACE", "NAME", "STRATEGY", "STATUS", "STEP", "SET-WEIGHT", "READY", "DESIRED", "UP-TO-DATE", "AVAILABLE", "AGE"}
	if o.output.Wide() {
		header = append(header, "MESSAGE")
	}
	if !o.AllNamespaces {
		header = header[1:]
		for i := range rows {
			rows[i] = rows[i][1:]
		}
	}
	return termview.Table(o.Out, header, rows)
}

func (o *ListRolloutsOptions) row(ro *v1alpha1.Rollout, v view.Rollout) []string {
	step := v.Step
	if step == "" {
		step = "-"
	}
	weight := v.SetWeight
	if weight == "" {
		weight = "-"
	}
	row := []string{ro.Namespace, ro.Name, v.Strategy, v.Icon + " " + v.Status, step, weight,
		fmt.Sprintf("%d/%d", v.Ready, v.Desired), fmt.Sprint(v.Desired), fmt.Sprint(v.Updated), fmt.Sprint(v.Available),
		view.Age(v.Created, o.f.Now())}
	if o.output.Wide() {
		row = append(row, v.Message)
	}
	return row
}

// AwaitingPromotion reports whether a rollout is paused at a step (or by hand) and waits for
// someone to promote or resume it.
func AwaitingPromotion(ro *v1alpha1.Rollout) bool {
	phase, _ := rules.ObservedPhase(ro)
	return phase == v1alpha1.RolloutPhasePaused && !ro.Status.Abort
}
