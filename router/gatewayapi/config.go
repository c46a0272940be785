package gatewayapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Default plugin keys and labels.
const (
	// DefaultPluginName is the key under trafficRouting.plugins that nerve-gatewayapi reads unless
	// its --name argument says otherwise.
	DefaultPluginName = "nerve/gatewayAPI"
	// LabsPluginName is the key of argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi; run the
	// binary with --name=argoproj-labs/gatewayAPI to take over an existing configuration.
	LabsPluginName = "argoproj-labs/gatewayAPI"
	// DefaultInProgressLabelKey and DefaultInProgressLabelValue mark a route while the canary
	// weight is above zero (the labs plugin's defaults).
	DefaultInProgressLabelKey   = "rollouts.argoproj.io/gatewayapi-canary"
	DefaultInProgressLabelValue = "in-progress"
	// DefaultMaxTrafficWeight is the total weight when the Rollout does not set maxTrafficWeight.
	DefaultMaxTrafficWeight int32 = 100
)

// Config is the plugin's configuration, the JSON object under
// spec.strategy.canary.trafficRouting.plugins[<name>]. It is the schema of argoproj-labs'
// GatewayAPITrafficRouting.
type Config struct {
	// HTTPRoute, GRPCRoute, TCPRoute and TLSRoute name one route each; a route named this way
	// takes header and mirror routes (useHeaderRoutes: true).
	HTTPRoute string `json:"httpRoute,omitempty"`
	GRPCRoute string `json:"grpcRoute,omitempty"`
	TCPRoute  string `json:"tcpRoute,omitempty"`
	TLSRoute  string `json:"tlsRoute,omitempty"`
	// HTTPRoutes, GRPCRoutes, TCPRoutes and TLSRoutes list routes with a per-route useHeaderRoutes.
	HTTPRoutes []RouteRef `json:"httpRoutes,omitempty"`
	GRPCRoutes []RouteRef `json:"grpcRoutes,omitempty"`
	TCPRoutes  []RouteRef `json:"tcpRoutes,omitempty"`
	TLSRoutes  []RouteRef `json:"tlsRoutes,omitempty"`
	// Namespace holds the routes; it defaults to the Rollout's namespace.
	Namespace string `json:"namespace,omitempty"`
	// The selectors discover routes by label in Namespace; discovered routes take no header or
	// mirror routes.
	HTTPRouteSelector *metav1.LabelSelector `json:"httpRouteSelector,omitempty"`
	GRPCRouteSelector *metav1.LabelSelector `json:"grpcRouteSelector,omitempty"`
	TCPRouteSelector  *metav1.LabelSelector `json:"tcpRouteSelector,omitempty"`
	TLSRouteSelector  *metav1.LabelSelector `json:"tlsRouteSelector,omitempty"`
	// DisableInProgressLabel turns off the label set on routes while the canary weight is > 0.
	DisableInProgressLabel bool `json:"disableInProgressLabel,omitempty"`
	// InProgressLabelKey and InProgressLabelValue override that label.
	InProgressLabelKey   string `json:"inProgressLabelKey,omitempty"`
	InProgressLabelValue string `json:"inProgressLabelValue,omitempty"`
}

// RouteRef names one route of a list.
type RouteRef struct {
	Name string `json:"name"`
	// UseHeaderRoutes lets setHeaderRoute and setMirrorRoute steps add rules to this route.
	UseHeaderRoutes bool `json:"useHeaderRoutes,omitempty"`
}

// Kind is a Gateway API route kind.
type Kind string

// Route kinds, all served at gateway.networking.k8s.io/v1 by Gateway API v1.6's standard channel.
const (
	KindHTTPRoute Kind = "HTTPRoute"
	KindGRPCRoute Kind = "GRPCRoute"
	KindTCPRoute  Kind = "TCPRoute"
	KindTLSRoute  Kind = "TLSRoute"
)

// allKinds lists the route kinds in the order they are reconciled.
func allKinds() []Kind { return []Kind{KindHTTPRoute, KindGRPCRoute, KindTCPRoute, KindTLSRoute} }

// Resource is the lower-case plural resource name of a kind, as RBAC spells it.
func (k Kind) Resource() string { return strings.ToLower(string(k)) + "s" }

// configField is the kind's singular field name in Config ("httpRoute", ...).
func (k Kind) configField() string { return strings.ToLower(string(k[:len(k)-5])) + "Route" }

// supportsManagedRules reports whether header (and, for HTTP, mirror) rules can be added to k.
func (k Kind) supportsManagedRules() bool { return k == KindHTTPRoute || k == KindGRPCRoute }

// target is one route the plugin manages.
type target struct {
	Kind            Kind
	Namespace       string
	Name            string
	UseHeaderRoutes bool
}

// String names the target for messages.
func (t target) String() string { return fmt.Sprintf("%s %s/%s", t.Kind, t.Namespace, t.Name) }

// ErrNoRoutes is returned when the configuration names no route (and selectors found none).
var ErrNoRoutes = errors.New("no routes configured: set at least one of httpRoute(s), grpcRoute(s), tcpRoute(s), tlsRoute(s) or a *RouteSelector that matches a route")

// parseConfig decodes the plugin configuration of ro stored under key. Unknown fields are
// reported in warnings (a typo would otherwise silently drop a route) but do not fail.
func parseConfig(ro *v1alpha1.Rollout, key string) (*Config, []string, error) {
	raw, err := rawConfig(ro, key)
	if err != nil {
		return nil, nil, err
	}
	cfg, warnings, err := decodeConfig(raw)
	for i := range warnings {
		warnings[i] = fmt.Sprintf("plugin config %q: %s", key, warnings[i])
	}
	if err != nil {
		return nil, warnings, fmt.Errorf("plugin config %q of rollout %s/%s: %w", key, ro.Namespace, ro.Name, err)
	}
	if cfg.Namespace == "" {
		cfg.Namespace = ro.Namespace
	}
	return cfg, warnings, nil
}

// decodeConfig decodes a raw plugin configuration: strictly first, and when that fails on an
// unknown field, leniently with the strict error as a warning.
func decodeConfig(raw []byte) (*Config, []string, error) {
	cfg := &Config{}
	var warnings []string
	strict := json.NewDecoder(bytes.NewReader(raw))
	strict.DisallowUnknownFields()
	if err := strict.Decode(cfg); err != nil {
		cfg = &Config{}
		if lerr := json.Unmarshal(raw, cfg); lerr != nil {
			return nil, nil, lerr
		}
		warnings = append(warnings, fmt.Sprintf("%v (field ignored)", err))
	}
	if err := validateRouteRefs(cfg); err != nil {
		return nil, warnings, err
	}
	return cfg, warnings, nil
}

// DecodeConfig decodes raw as this router's plugin configuration, the way the router does
// (unknown fields become warnings), and fails with ErrNoRoutes when it names no route and no
// route selector: such a JSON object is not a Gateway API router's configuration. The
// namespace stays empty when the config does not set it (the Rollout's applies).
func DecodeConfig(raw []byte) (*Config, []string, error) {
	cfg, warnings, err := decodeConfig(raw)
	if err != nil {
		return nil, warnings, err
	}
	if len(cfg.namedTargets()) == 0 && !cfg.hasSelector() {
		return nil, warnings, ErrNoRoutes
	}
	return cfg, warnings, nil
}

// rawConfig returns the raw JSON under key, or an error naming the keys that are present.
func rawConfig(ro *v1alpha1.Rollout, key string) ([]byte, error) {
	if ro == nil {
		return nil, errors.New("no rollout in the request")
	}
	c := ro.Spec.Strategy.Canary
	if c == nil {
		return nil, fmt.Errorf("rollout %s/%s has no canary strategy", ro.Namespace, ro.Name)
	}
	if c.StableService == "" || c.CanaryService == "" {
		return nil, fmt.Errorf("rollout %s/%s: spec.strategy.canary.stableService and canaryService must both be set for traffic routing", ro.Namespace, ro.Name)
	}
	if c.TrafficRouting == nil {
		return nil, fmt.Errorf("rollout %s/%s has no spec.strategy.canary.trafficRouting", ro.Namespace, ro.Name)
	}
	raw, ok := c.TrafficRouting.Plugins[key]
	if !ok || len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		keys := make([]string, 0, len(c.TrafficRouting.Plugins))
		for k := range c.TrafficRouting.Plugins {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("rollout %s/%s has no config under spec.strategy.canary.trafficRouting.plugins[%q] (keys present: %v); this plugin reads the key given by its --name argument", ro.Namespace, ro.Name, key, keys)
	}
	return raw, nil
}

func validateRouteRefs(cfg *Config) error {
	lists := map[string][]RouteRef{"httpRoutes": cfg.HTTPRoutes, "grpcRoutes": cfg.GRPCRoutes, "tcpRoutes": cfg.TCPRoutes, "tlsRoutes": cfg.TLSRoutes}
	for field, refs := range lists {
		for i, r := range refs {
			if r.Name == "" {
				return fmt.Errorf("%s[%d].name is required", field, i)
			}
		}
	}
	return nil
}

// namedTargets returns the routes named in the configuration (singular fields first take
// header routes), de-duplicated per kind; a route listed twice takes header routes if any entry
// says so.
func (c *Config) namedTargets() []target {
	var out []target
	add := func(kind Kind, single string, list []RouteRef) {
		refs := list
		if single != "" {
			refs = append([]RouteRef{{Name: single, UseHeaderRoutes: true}}, list...)
		}
		for _, r := range refs {
			out = mergeTarget(out, target{Kind: kind, Namespace: c.Namespace, Name: r.Name, UseHeaderRoutes: r.UseHeaderRoutes})
		}
	}
	add(KindHTTPRoute, c.HTTPRoute, c.HTTPRoutes)
	add(KindGRPCRoute, c.GRPCRoute, c.GRPCRoutes)
	add(KindTCPRoute, c.TCPRoute, c.TCPRoutes)
	add(KindTLSRoute, c.TLSRoute, c.TLSRoutes)
	return out
}

// mergeTarget appends t unless a target with the same kind and name exists, in which case the
// header-route flags are or-ed.
func mergeTarget(list []target, t target) []target {
	for i := range list {
		if list[i].Kind == t.Kind && list[i].Name == t.Name && list[i].Namespace == t.Namespace {
			list[i].UseHeaderRoutes = list[i].UseHeaderRoutes || t.UseHeaderRoutes
			return list
		}
	}
	return append(list, t)
}

// selector returns the label selector configured for kind, if any.
func (c *Config) selector(kind Kind) *metav1.LabelSelector {
	switch kind {
	case KindHTTPRoute:
		return c.HTTPRouteSelector
	case KindGRPCRoute:
		return c.GRPCRouteSelector
	case KindTCPRoute:
		return c.TCPRouteSelector
	default:
		return c.TLSRouteSelector
	}
}

// hasSelector reports whether any route kind is discovered by label.
func (c *Config) hasSelector() bool {
	for _, k := range allKinds() {
		if c.selector(k) != nil {
			return true
		}
	}
	return false
}

// inProgressLabel returns the label key and value to set while the weight is > 0 ("" when
// disabled).
func (c *Config) inProgressLabel() (string, string) {
	if c.DisableInProgressLabel {
		return "", ""
	}
	key, val := c.InProgressLabelKey, c.InProgressLabelValue
	if key == "" {
		key = DefaultInProgressLabelKey
	}
	if val == "" {
		val = DefaultInProgressLabelValue
	}
	return key, val
}
