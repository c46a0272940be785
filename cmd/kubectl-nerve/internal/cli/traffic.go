package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	termview "github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/view"
	mllpapi "github.com/nerve-rollouts/nerve/router/mllp/api"
	"github.com/nerve-rollouts/nerve/view"
)

// gatewayGroup is the Gateway API group; every route kind nerve reads is served at v1.
const gatewayGroup = "gateway.networking.k8s.io"

// TrafficReport is what `traffic` shows (and prints for -o).
type TrafficReport struct {
	Rollout      string          `json:"rollout"`
	SetWeight    string          `json:"setWeight"`
	ActualWeight string          `json:"actualWeight"`
	Backends     []BackendWeight `json:"backends,omitempty"`
	MLLP         []MLLPReplica   `json:"mllp,omitempty"`
	Problems     []string        `json:"problems,omitempty"`
}

// BackendWeight is one backendRef of a Gateway API route rule.
type BackendWeight struct {
	Router  string `json:"router"`
	Route   string `json:"route"`
	Rule    int    `json:"rule"`
	Backend string `json:"backend"`
	Role    string `json:"role,omitempty"`
	Weight  int32  `json:"weight"`
	Share   string `json:"share"`
}

// MLLPReplica is one nerve-mllp-proxy replica's report of an MLLPRoute.
type MLLPReplica struct {
	Router         string `json:"router"`
	Route          string `json:"route"`
	Replica        string `json:"replica"`
	Weight         string `json:"weight"`
	Ready          bool   `json:"ready"`
	Fresh          bool   `json:"fresh"`
	StableMessages int64  `json:"stableMessages"`
	CanaryMessages int64  `json:"canaryMessages"`
	CanaryShare    string `json:"canaryShare"`
	Message        string `json:"message,omitempty"`
}

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

// Complete fills the name and clients.
func (o *TrafficOptions) Complete(args []string) error {
	return o.complete(o.f, args, false)
}

// Validate checks -o.
func (o *TrafficOptions) Validate() error { return o.output.Validate() }

// Run reads the routes.
func (o *TrafficOptions) Run(ctx context.Context) error {
	_, ro, err := o.c.getRollout(ctx, o.Name)
	if err != nil {
		return err
	}
	rep := o.collect(ctx, ro)
	if !o.output.Human() {
		r, err := report("TrafficReport", o.Name, rep)
		if err != nil {
			return err
		}
		return o.output.Print(r, o.Out)
	}
	return writeTraffic(o.Out, rep)
}

func (o *TrafficOptions) collect(ctx context.Context, ro *v1alpha1.Rollout) TrafficReport {
	v := view.Build(ro, nil, nil, nil, o.f.Now())
	rep := TrafficReport{Rollout: ro.Name, SetWeight: v.SetWeight}
	if w := ro.Status.Canary.Weights; w != nil {
		rep.ActualWeight = fmt.Sprint(w.Canary.Weight)
	}
	c := ro.Spec.Strategy.Canary
	if c == nil || c.TrafficRouting == nil || len(c.TrafficRouting.Plugins) == 0 {
		rep.Problems = append(rep.Problems, "no trafficRouting plugins: replica-based canary, the weight is the share of canary pods")
		return rep
	}
	names := make([]string, 0, len(c.TrafficRouting.Plugins))
	for n := range c.TrafficRouting.Plugins {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		cfg := map[string]any{}
		if err := json.Unmarshal(c.TrafficRouting.Plugins[name], &cfg); err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: config is not a JSON object: %v", name, err))
			continue
		}
		ns := stringField(cfg, "namespace", ro.Namespace)
		if strings.Contains(strings.ToLower(name), "mllp") {
			o.mllp(ctx, &rep, name, ns, stringField(cfg, "route", stringField(cfg, "mllpRoute", ro.Name)))
			continue
		}
		for _, ref := range gatewayRoutes(cfg) {
			o.gateway(ctx, &rep, ro, name, ns, ref)
		}
	}
	return rep
}

func stringField(cfg map[string]any, key, def string) string {
	if s, ok := cfg[key].(string); ok && s != "" {
		return s
	}
	return def
}

// routeRef is a Gateway API route named by a plugin config.
type routeRef struct{ resource, name string }

func gatewayRoutes(cfg map[string]any) []routeRef {
	var out []routeRef
	for _, kind := range []string{"http", "grpc", "tcp", "tls"} {
		res := kind + "routes"
		if s, ok := cfg[kind+"Route"].(string); ok && s != "" {
			out = append(out, routeRef{res, s})
		}
		list, _ := cfg[kind+"Routes"].([]any)
		for _, it := range list {
			if m, ok := it.(map[string]any); ok {
				if s, ok := m["name"].(string); ok && s != "" {
					out = append(out, routeRef{res, s})
				}
			}
		}
	}
	return out
}

func (o *TrafficOptions) gateway(ctx context.Context, rep *TrafficReport, ro *v1alpha1.Rollout, router, ns string, ref routeRef) {
	gvr := schema.GroupVersionResource{Group: gatewayGroup, Version: "v1", Resource: ref.resource}
	u, err := o.c.dyn.Resource(gvr).Namespace(ns).Get(ctx, ref.name, metav1.GetOptions{})
	if err != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %s %s/%s: %v", router, ref.resource, ns, ref.name, err))
		return
	}
	rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
	for i, r := range rules {
		rule, _ := r.(map[string]any)
		refs, _ := rule["backendRefs"].([]any)
		var entries []BackendWeight
		total := int32(0)
		for _, b := range refs {
			br, _ := b.(map[string]any)
			w := int32(1)
			if x, ok := br["weight"].(int64); ok {
				w = int32(x)
			}
			name, _ := br["name"].(string)
			entries = append(entries, BackendWeight{Router: router, Route: ref.resource + "/" + ref.name, Rule: i, Backend: name,
				Role: role(ro, name), Weight: w})
			total += w
		}
		for _, e := range entries {
			e.Share = share(int64(e.Weight), int64(total))
			rep.Backends = append(rep.Backends, e)
		}
	}
}

func role(ro *v1alpha1.Rollout, svc string) string {
	switch svc {
	case ro.Spec.Strategy.Canary.CanaryService:
		return "canary"
	case ro.Spec.Strategy.Canary.StableService:
		return "stable"
	}
	return ""
}

func share(n, total int64) string {
	if total <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", float64(n)*100/float64(total))
}

func (o *TrafficOptions) mllp(ctx context.Context, rep *TrafficReport, router, ns, name string) {
	u, err := o.c.dyn.Resource(mllpapi.GroupVersionResource()).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s: mllproute %s/%s: %v", router, ns, name, err))
		return
	}
	route := &mllpapi.MLLPRoute{}
	if err := view.FromUnstructured(u, route); err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return
	}
	now := o.f.Now()
	maxW := route.Spec.EffectiveMaxWeight()
	if len(route.Status.Replicas) == 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s: mllproute %s/%s: spec weight %d/%d, no proxy replica reports status", router, ns, name, route.Spec.Weight, maxW))
	}
	for _, r := range route.Status.Replicas {
		m := r.MaxWeight
		if m == 0 {
			m = maxW
		}
		rep.MLLP = append(rep.MLLP, MLLPReplica{Router: router, Route: "mllproute/" + name, Replica: r.Name,
			Weight: fmt.Sprintf("%d/%d", r.Weight, m), Ready: r.Ready, Fresh: r.Fresh(now),
			StableMessages: r.StableMessages, CanaryMessages: r.CanaryMessages,
			CanaryShare: share(r.CanaryMessages, r.StableMessages+r.CanaryMessages), Message: r.Message})
	}
}

func writeTraffic(w interface{ Write([]byte) (int, error) }, rep TrafficReport) error {
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
