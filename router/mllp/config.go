package mllp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

// DefaultPluginName is the config key the plugin reads by default.
const DefaultPluginName = "nerve/mllp"

// VerifyAnnotation on the MLLPRoute holds the router's last VerifyWeight verdict.
const VerifyAnnotation = "mllp.nerve.io/verify-message"

// ErrNoRoute is returned for a config that names no MLLPRoute.
var ErrNoRoute = errors.New("field route (the MLLPRoute name) is required")

// Config is the plugin's per-Rollout configuration.
type Config struct {
	// Route is the MLLPRoute name.
	Route string `json:"route"`
	// Namespace of the MLLPRoute (default: the Rollout's).
	Namespace string `json:"namespace,omitempty"`
	// Headers maps extra setHeaderRoute header names to MSH-4 or MSH-9.
	Headers map[string]string `json:"headers,omitempty"`
	// MirrorService is the setMirrorRoute target (default: the canary Service).
	MirrorService string `json:"mirrorService,omitempty"`
	// VerifyTimeout lets VerifyWeight wait for the replicas (Go duration, default 0).
	VerifyTimeout string `json:"verifyTimeout,omitempty"`
}

// target is a resolved config plus what the Rollout says.
type target struct {
	Config
	rolloutNS     string
	stableService string
	canaryService string
	maxWeight     int32
	verifyWait    time.Duration
	managed       []string
}

func (t target) key() string { return t.Namespace + "/" + t.Route }

// resolve reads and checks the config of the plugin name from the Rollout.
func resolve(name string, ro *v1alpha1.Rollout) (target, error) {
	if ro == nil || ro.Spec.Strategy.Canary == nil || ro.Spec.Strategy.Canary.TrafficRouting == nil {
		return target{}, fmt.Errorf("rollout has no spec.strategy.canary.trafficRouting")
	}
	c := ro.Spec.Strategy.Canary
	raw, ok := c.TrafficRouting.Plugins[name]
	if !ok {
		return target{}, fmt.Errorf("rollout %s/%s: no config under spec.strategy.canary.trafficRouting.plugins[%q]", ro.Namespace, ro.Name, name)
	}
	var cfg Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return target{}, fmt.Errorf("plugins[%q]: bad config: %w", name, err)
	}
	t := target{Config: cfg, rolloutNS: ro.Namespace, stableService: c.StableService, canaryService: c.CanaryService, maxWeight: api.DefaultMaxWeight}
	if err := t.check(name); err != nil {
		return target{}, err
	}
	if t.Namespace == "" {
		t.Namespace = ro.Namespace
	}
	if m := c.TrafficRouting.MaxTrafficWeight; m != nil && *m > 0 {
		t.maxWeight = *m
	}
	for _, m := range c.TrafficRouting.ManagedRoutes {
		t.managed = append(t.managed, m.Name)
	}
	return t, nil
}

func (t *target) check(name string) error {
	if t.Route == "" {
		return fmt.Errorf("plugins[%q]: %w", name, ErrNoRoute)
	}
	if t.Namespace == "" && t.rolloutNS == "" {
		return fmt.Errorf("plugins[%q]: field namespace is empty and the Rollout has no namespace", name)
	}
	if t.stableService == "" {
		return fmt.Errorf("rollout: spec.strategy.canary.stableService is required by the MLLP router")
	}
	if t.VerifyTimeout != "" {
		d, err := time.ParseDuration(t.VerifyTimeout)
		if err != nil || d < 0 {
			return fmt.Errorf("plugins[%q]: field verifyTimeout %q is not a duration like 2s", name, t.VerifyTimeout)
		}
		t.verifyWait = d
	}
	for h, f := range t.Headers {
		if _, ok := fieldAlias(f); !ok {
			return fmt.Errorf("plugins[%q]: field headers[%q] = %q must be MSH-4 or MSH-9", name, h, f)
		}
	}
	return nil
}

// fieldAlias maps a header name (case-insensitive) to the MSH field it stands for.
func fieldAlias(h string) (api.MatchField, bool) {
	switch strings.ToLower(strings.TrimSpace(h)) {
	case "msh-4", "msh4", "msh.4", "sending-facility", "sendingfacility", "sending_facility", "facility":
		return api.FieldMSH4, true
	case "msh-9", "msh9", "msh.9", "message-type", "messagetype", "message_type", "type":
		return api.FieldMSH9, true
	}
	return "", false
}

// headerField resolves a setHeaderRoute header name through the built-in aliases and the config.
func (t target) headerField(h string) (api.MatchField, bool) {
	if f, ok := fieldAlias(h); ok {
		return f, true
	}
	for k, v := range t.Headers {
		if strings.EqualFold(k, h) {
			return fieldAlias(v)
		}
	}
	return "", false
}

// mirrorTarget is the Service a mirror sends copies to.
func (t target) mirrorTarget() string {
	if t.MirrorService != "" {
		return t.MirrorService
	}
	return t.canaryService
}
