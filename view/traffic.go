package view

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/router/gatewayapi"
	"github.com/nerve-rollouts/nerve/router/mllp"
)

// Traffic is the live traffic of a Rollout as its routers apply it, read from the routing
// objects rather than from the Rollout: each Gateway API backendRef with its share of its rule,
// and each MLLP proxy replica with its applied weight and observed message share. Its JSON is
// what `kubectl nerve traffic -o` prints.
type Traffic struct {
	Rollout      string          `json:"rollout"`
	SetWeight    string          `json:"setWeight"`
	ActualWeight string          `json:"actualWeight"`
	Backends     []BackendWeight `json:"backends,omitempty"`
	MLLP         []MLLPReplica   `json:"mllp,omitempty"`
	// Problems say what could not be read, or why there is nothing to read.
	Problems []string `json:"problems,omitempty"`
}

// BackendWeight is one backendRef of a Gateway API route rule.
type BackendWeight struct {
	// Router is the trafficRouting plugin key whose config names the route.
	Router string `json:"router"`
	// Route is "<resource>/<name>", e.g. httproutes/web.
	Route   string `json:"route"`
	Rule    int    `json:"rule"`
	Backend string `json:"backend"`
	// Role is stable or canary for the Rollout's Services, else empty.
	Role   string `json:"role,omitempty"`
	Weight int32  `json:"weight"`
	// Share is the weight's share of its rule's total ("95.0%", "-" for a zero total).
	Share string `json:"share"`
}

// MLLPReplica is one nerve-mllp-proxy replica's report of an MLLPRoute.
type MLLPReplica struct {
	// Router is the trafficRouting plugin key whose config names the route.
	Router string `json:"router"`
	// Route is "mllproute/<name>".
	Route   string `json:"route"`
	Replica string `json:"replica"`
	// Weight is the applied canary weight, "<weight>/<maxWeight>".
	Weight         string `json:"weight"`
	Ready          bool   `json:"ready"`
	Fresh          bool   `json:"fresh"`
	StableMessages int64  `json:"stableMessages"`
	CanaryMessages int64  `json:"canaryMessages"`
	// CanaryShare is the canary's share of the replica's messages ("4.9%", "-" before any).
	CanaryShare string `json:"canaryShare"`
	Message     string `json:"message,omitempty"`
}

// Traffic reads the Rollout ns/name and the routing objects of its trafficRouting plugins.
func (r Reader) Traffic(ctx context.Context, ns, name string) (Traffic, error) {
	_, ro, err := r.Get(ctx, ns, name)
	if err != nil {
		return Traffic{}, err
	}
	return r.TrafficOf(ctx, ro), nil
}

// TrafficOf reads the routing objects of ro's trafficRouting plugins, in plugin-key order. A
// router that cannot be read is a problem of the result, not an error: the others still show.
func (r Reader) TrafficOf(ctx context.Context, ro *v1alpha1.Rollout) Traffic {
	t := Traffic{Rollout: ro.Name, SetWeight: Build(ro, nil, nil, nil, r.now()).SetWeight}
	if w := ro.Status.Canary.Weights; w != nil {
		t.ActualWeight = fmt.Sprint(w.Canary.Weight)
	}
	c := ro.Spec.Strategy.Canary
	if c == nil || c.TrafficRouting == nil || len(c.TrafficRouting.Plugins) == 0 {
		t.problem("no trafficRouting plugins: replica-based canary, the weight is the share of canary pods")
		return t
	}
	keys := make([]string, 0, len(c.TrafficRouting.Plugins))
	for k := range c.TrafficRouting.Plugins {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		r.observe(ctx, ro, key, c.TrafficRouting.Plugins[key], &t)
	}
	return t
}

func (t *Traffic) problem(format string, a ...any) {
	t.Problems = append(t.Problems, fmt.Sprintf(format, a...))
}

// trafficObserver is the read side of one router nerve can observe.
type trafficObserver struct {
	// router names the router in messages.
	router string
	// decode claims raw as this router's plugin config (nil error) and returns how to read it.
	decode func(raw []byte) (observeFunc, error)
}

// observeFunc adds to t what one router's config, stored under the plugin key, routes.
type observeFunc func(ctx context.Context, r Reader, ro *v1alpha1.Rollout, key string, t *Traffic)

// trafficObservers are the routers the view can read. A plugin config is read by the one whose
// decoder accepts it, whatever its key (nerve/gatewayAPI, argoproj-labs/gatewayAPI, nerve/mllp
// or a renamed --name): the keys are the operator's choice, the config shapes are the routers'.
func trafficObservers() []trafficObserver {
	return []trafficObserver{
		{router: "Gateway API", decode: decodeGateway},
		{router: "MLLP", decode: decodeMLLP},
	}
}

// observe reads the routing objects of the plugin config raw stored under key.
func (r Reader) observe(ctx context.Context, ro *v1alpha1.Rollout, key string, raw json.RawMessage, t *Traffic) {
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.problem("%s: config is not a JSON object: %v", key, err)
		return
	}
	var fits []observeFunc
	var names, reasons []string
	for _, o := range trafficObservers() {
		f, err := o.decode(raw)
		if err != nil {
			reasons = append(reasons, o.router+": "+err.Error())
			continue
		}
		fits = append(fits, f)
		names = append(names, o.router)
	}
	switch len(fits) {
	case 0:
		t.problem("%s: not the config of a router nerve can read (%s)", key, strings.Join(reasons, "; "))
	case 1:
		fits[0](ctx, r, ro, key, t)
	default:
		t.problem("%s: the config fits more than one router (%s), so it is not read", key, strings.Join(names, ", "))
	}
}

func decodeGateway(raw []byte) (observeFunc, error) {
	cfg, warnings, err := gatewayapi.DecodeConfig(raw)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, r Reader, ro *v1alpha1.Rollout, key string, t *Traffic) {
		for _, w := range warnings {
			t.problem("%s: %s", key, w)
		}
		r.observeGateway(ctx, ro, key, cfg, t)
	}, nil
}

func (r Reader) observeGateway(ctx context.Context, ro *v1alpha1.Rollout, key string, cfg *gatewayapi.Config, t *Traffic) {
	if r.Gateway == nil {
		t.problem("%s: %v", key, errNoClient("Gateway API"))
		return
	}
	routes, err := gatewayapi.Observe(ctx, r.Gateway, ro, cfg)
	if err != nil {
		t.problem("%s: %v", key, err)
		return
	}
	for _, rt := range routes {
		if rt.Err != nil {
			t.problem("%s: %v", key, rt.Err)
			continue
		}
		for i, rule := range rt.Rules {
			total := int64(0)
			for _, b := range rule.Backends {
				total += int64(b.Weight)
			}
			for _, b := range rule.Backends {
				t.Backends = append(t.Backends, BackendWeight{Router: key, Route: rt.Kind.Resource() + "/" + rt.Name, Rule: i,
					Backend: b.Name, Role: b.Role, Weight: b.Weight, Share: share(int64(b.Weight), total)})
			}
		}
	}
}

func decodeMLLP(raw []byte) (observeFunc, error) {
	cfg, err := mllp.DecodeConfig(raw)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, r Reader, ro *v1alpha1.Rollout, key string, t *Traffic) {
		r.observeMLLP(ctx, ro, key, cfg, t)
	}, nil
}

func (r Reader) observeMLLP(ctx context.Context, ro *v1alpha1.Rollout, key string, cfg mllp.Config, t *Traffic) {
	if r.Dynamic == nil {
		t.problem("%s: %v", key, errNoClient("dynamic"))
		return
	}
	obs, err := mllp.Observe(ctx, r.Dynamic, ro, cfg, r.now())
	if err != nil {
		t.problem("%s: %v", key, err)
		return
	}
	if len(obs.Replicas) == 0 {
		t.problem("%s: mllproute %s/%s: spec weight %d/%d, no proxy replica reports status", key, obs.Namespace, obs.Name, obs.Weight, obs.MaxWeight)
	}
	for _, rep := range obs.Replicas {
		t.MLLP = append(t.MLLP, MLLPReplica{Router: key, Route: "mllproute/" + obs.Name, Replica: rep.Name,
			Weight: fmt.Sprintf("%d/%d", rep.Weight, rep.MaxWeight), Ready: rep.Ready, Fresh: rep.Fresh,
			StableMessages: rep.StableMessages, CanaryMessages: rep.CanaryMessages,
			CanaryShare: percent(rep.CanaryPercent()), Message: rep.Message})
	}
}

// share formats n's share of total ("-" for a zero total).
func share(n, total int64) string {
	if total <= 0 {
		return "-"
	}
	return percent(float64(n)*100/float64(total), true)
}

func percent(p float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", p)
}
