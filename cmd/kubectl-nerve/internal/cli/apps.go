package cli

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/gitops"
	termview "github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/view"
	"github.com/nerve-rollouts/nerve/rollout/rules"
	"github.com/nerve-rollouts/nerve/view"
)

// healthOrder is Argo CD's health statuses, worst first.
func healthOrder() []string {
	return []string{"Degraded", "Missing", "Unknown", "Progressing", "Suspended", "Healthy"}
}

// worse reports whether health a is worse than b.
func worse(a, b string) bool {
	ia, ib := slices.Index(healthOrder(), a), slices.Index(healthOrder(), b)
	if ia < 0 {
		ia = 2
	}
	if ib < 0 {
		ib = 2
	}
	return ia < ib
}

// AppNode is one node of the app-of-apps tree.
type AppNode struct {
	Kind       string     `json:"kind"`
	Namespace  string     `json:"namespace,omitempty"`
	Name       string     `json:"name"`
	Sync       string     `json:"sync,omitempty"`
	Health     string     `json:"health"`
	OwnHealth  string     `json:"ownHealth,omitempty"`
	Revision   string     `json:"revision,omitempty"`
	Reconciled string     `json:"reconciled,omitempty"`
	Stale      bool       `json:"stale,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	Children   []*AppNode `json:"children,omitempty"`
}

// AppsOptions are the options of `apps`.
type AppsOptions struct {
	genericiooptions.IOStreams
	f      *Factory
	output *outputFlags
	gitops gitopsFlags

	AllNamespaces bool
	StaleAfter    time.Duration
}

// NewCmdApps is `apps [-A]`.
func NewCmdApps(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &AppsOptions{IOStreams: streams, f: f, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "apps",
		Short: "The app-of-apps tree: roots → children → Rollouts and workloads, health aggregated, what makes each unhealthy",
		Long: `Apps shows Argo CD's app-of-apps tree: each root Application, its child Applications (from the root's
status.resources), and each child's Rollouts (with nerve's own health: rules.ObservedPhase on the live
Rollout) and Deployments/StatefulSets/DaemonSets. Argo CD does not aggregate the health of child
Applications (argo-cd#3781), nerve does: a parent is as unhealthy as its worst child, and REASON names the
child and object that make it so. An Application whose status.reconciledAt is older than --stale-after is
marked stale (Argo CD's controller may not be reconciling it) and counts as Unknown.`,
		Example: "  kubectl nerve apps\n  kubectl nerve apps -A -o yaml",
		Args:    exactArgs(0, "no arguments"),
		RunE:    runOptions(o),
	}
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Applications of every namespace (apps in any namespace)")
	cmd.Flags().DurationVar(&o.StaleAfter, "stale-after", 10*time.Minute, "Mark an Application stale when its status is older")
	o.gitops.AddFlags(cmd, false)
	o.output.AddFlags(cmd)
	return cmd
}

// Complete has no arguments.
func (o *AppsOptions) Complete(_ []string) error {
	if o.AllNamespaces {
		o.gitops.ArgoNamespace = metav1.NamespaceAll
	}
	return nil
}

// Validate checks -o.
func (o *AppsOptions) Validate() error { return o.output.Validate() }

// Run builds and prints the tree.
func (o *AppsOptions) Run(ctx context.Context) error {
	apps, err := o.gitops.apps(o.f)
	if err != nil {
		return err
	}
	list, err := apps.List(ctx, "")
	if err != nil {
		return err
	}
	roots := o.tree(ctx, list)
	if !o.output.Human() {
		r, err := report("AppTree", "apps", map[string]any{"roots": roots})
		if err != nil {
			return err
		}
		return o.output.Print(r, o.Out)
	}
	if len(roots) == 0 {
		return printf(o.ErrOut, "No Argo CD Applications found.\n")
	}
	var rows [][]string
	for i, r := range roots {
		rows = appendRows(rows, r, "", i == len(roots)-1, true)
	}
	return termview.Table(o.Out, []string{"NAME", "KIND", "SYNC", "HEALTH", "REVISION", "RECONCILED", "REASON"}, rows)
}

func appendRows(rows [][]string, n *AppNode, prefix string, last, top bool) [][]string {
	branch, next := "├──", prefix+"│  "
	if last {
		branch, next = "└──", prefix+"   "
	}
	if top {
		branch, next = "", ""
	}
	health := n.Health
	if n.Stale {
		health += " (stale)"
	}
	rows = append(rows, []string{prefix + branch + n.Name, n.Kind, dash(n.Sync), health, dash(shortCommit(n.Revision)), dash(n.Reconciled), dash(n.Reason)})
	for i, c := range n.Children {
		rows = appendRows(rows, c, next, i == len(n.Children)-1, false)
	}
	return rows
}

// tree makes the roots: Applications no other Application lists as a resource.
func (o *AppsOptions) tree(ctx context.Context, list []*gitops.Application) []*AppNode {
	byName := map[string]*gitops.Application{}
	child := map[string]bool{}
	for _, a := range list {
		byName[a.Namespace+"/"+a.Name] = a
		for _, r := range a.Status.Resources {
			if r.Kind == "Application" && r.Group == "argoproj.io" {
				child[r.Namespace+"/"+r.Name] = true
			}
		}
	}
	var roots []*AppNode
	for _, a := range list {
		if !child[a.Namespace+"/"+a.Name] {
			roots = append(roots, o.node(ctx, a, byName, 0))
		}
	}
	sort.Slice(roots, func(i, j int) bool { return roots[i].Name < roots[j].Name })
	return roots
}

func (o *AppsOptions) node(ctx context.Context, a *gitops.Application, byName map[string]*gitops.Application, depth int) *AppNode {
	n := &AppNode{Kind: "Application", Namespace: a.Namespace, Name: a.Name, Sync: a.Status.Sync.Status,
		Health: orUnknown(a.Status.Health.Status), Revision: a.Status.Sync.Revision}
	n.OwnHealth = n.Health
	if a.Status.Health.Status != "Healthy" && a.Status.Health.Message != "" {
		n.Reason = a.Status.Health.Message
	}
	o.staleness(n, a)
	for _, r := range a.Status.Resources {
		switch {
		case r.Kind == "Application" && r.Group == "argoproj.io" && depth < 5:
			if c := byName[r.Namespace+"/"+r.Name]; c != nil {
				n.Children = append(n.Children, o.node(ctx, c, byName, depth+1))
			} else {
				n.Children = append(n.Children, &AppNode{Kind: "Application", Namespace: r.Namespace, Name: r.Name, Health: "Missing", Reason: "not found"})
			}
		case r.Kind == v1alpha1.RolloutKind && r.Group == v1alpha1.Group:
			n.Children = append(n.Children, o.rolloutNode(ctx, a, r))
		case r.Kind == "Deployment" || r.Kind == "StatefulSet" || r.Kind == "DaemonSet":
			n.Children = append(n.Children, resourceNode(r))
		}
	}
	aggregate(n)
	return n
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}

// staleness marks an Application whose status Argo CD has not refreshed for --stale-after.
func (o *AppsOptions) staleness(n *AppNode, a *gitops.Application) {
	if a.Status.ReconciledAt == nil {
		n.Stale, n.Reason = true, "never reconciled by Argo CD"
		return
	}
	age := o.f.Now().Sub(a.Status.ReconciledAt.Time)
	n.Reconciled = view.Age(a.Status.ReconciledAt.Time, o.f.Now()) + " ago"
	if age > o.StaleAfter {
		n.Stale = true
		n.Reason = fmt.Sprintf("status stale: reconciled %s ago (is Argo CD's application controller running?)", view.Age(a.Status.ReconciledAt.Time, o.f.Now()))
	}
}

func resourceNode(r gitops.ResourceStatus) *AppNode {
	n := &AppNode{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Sync: r.Status, Health: "Unknown"}
	if r.Health != nil {
		n.Health, n.Reason = orUnknown(r.Health.Status), r.Health.Message
	}
	return n
}

// rolloutNode reads the live Rollout and judges it with nerve's own phase.
func (o *AppsOptions) rolloutNode(ctx context.Context, a *gitops.Application, r gitops.ResourceStatus) *AppNode {
	n := resourceNode(r)
	dyn, kube, err := destinationClients(o.f, a.Spec.Destination)
	if err != nil {
		n.Reason = err.Error()
		return n
	}
	_, ro, err := view.Reader{Dynamic: dyn, Kube: kube.view(), Now: o.f.Now}.Get(ctx, r.Namespace, r.Name)
	if err != nil {
		n.Health, n.Reason = "Missing", err.Error()
		return n
	}
	phase, msg := rules.ObservedPhase(ro)
	n.Health = rolloutHealth(phase)
	n.Reason = ""
	if n.Health != "Healthy" {
		n.Reason = msg
	}
	return n
}

// rolloutHealth maps a Rollout phase to Argo CD's health (Paused is Suspended, as in Argo CD's
// Rollout health check).
func rolloutHealth(p v1alpha1.RolloutPhase) string {
	switch p {
	case v1alpha1.RolloutPhaseHealthy:
		return "Healthy"
	case v1alpha1.RolloutPhasePaused:
		return "Suspended"
	case v1alpha1.RolloutPhaseDegraded:
		return "Degraded"
	case v1alpha1.RolloutPhaseProgressing:
		return "Progressing"
	}
	return "Unknown"
}

// aggregate makes n as unhealthy as its worst child and names that child in REASON.
func aggregate(n *AppNode) {
	if n.Stale && !worse(n.Health, "Unknown") {
		n.Health = "Unknown"
	}
	for _, c := range n.Children {
		if worse(c.Health, n.Health) {
			n.Health = c.Health
			n.Reason = c.Kind + " " + c.Name + " " + c.Health
			if c.Reason != "" {
				n.Reason += ": " + c.Reason
			}
		}
	}
}
