package mllp

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

// Observation is an MLLPRoute as its proxies apply it: the weight the router wrote into the
// spec and each nerve-mllp-proxy replica's report from the status. It is the read-only
// counterpart of SetWeight and VerifyWeight.
type Observation struct {
	Namespace  string
	Name       string
	Generation int64
	// Weight is the spec's canary weight in units of 1/MaxWeight (MaxWeight defaulted).
	Weight    int32
	MaxWeight int32
	Replicas  []ReplicaWeights
}

// ReplicaWeights is one proxy replica's report of the route.
type ReplicaWeights struct {
	Name string
	// Weight is the canary weight the replica applies, in units of 1/MaxWeight (the spec's
	// scale when the replica reports none).
	Weight             int32
	MaxWeight          int32
	ObservedGeneration int64
	// Ready is the replica's own verdict; Message explains Ready=false.
	Ready   bool
	Message string
	// Fresh reports a heartbeat at most api.HeartbeatFreshness old at the time of Observe.
	Fresh bool
	// StableMessages and CanaryMessages count the messages sent since the replica started.
	StableMessages int64
	CanaryMessages int64
}

// CanaryPercent is the percentage (0 to 100) of the replica's messages that went to the
// canary; ok is false before the replica has sent any.
func (r ReplicaWeights) CanaryPercent() (percent float64, ok bool) {
	total := r.StableMessages + r.CanaryMessages
	if total <= 0 {
		return 0, false
	}
	return float64(r.CanaryMessages) * 100 / float64(total), true
}

// DecodeConfig decodes raw as this router's plugin configuration and fails with ErrNoRoute when
// it names no MLLPRoute: such a JSON object is not an MLLP router's configuration.
func DecodeConfig(raw []byte) (Config, error) {
	var cfg Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return Config{}, fmt.Errorf("bad config: %w", err)
	}
	if cfg.Route == "" {
		return Config{}, ErrNoRoute
	}
	return cfg, nil
}

// Observe reads the MLLPRoute cfg names (in cfg.Namespace, or the Rollout's namespace when it
// is empty) and returns its spec weight and its replicas' reports, judged fresh at now. It only
// reads.
func Observe(ctx context.Context, d dynamic.Interface, ro *v1alpha1.Rollout, cfg Config, now time.Time) (Observation, error) {
	ns := cfg.Namespace
	if ns == "" {
		ns = ro.Namespace
	}
	u, err := d.Resource(api.GroupVersionResource()).Namespace(ns).Get(ctx, cfg.Route, metav1.GetOptions{})
	if err != nil {
		return Observation{}, fmt.Errorf("mllproute %s/%s: %w", ns, cfg.Route, err)
	}
	route, err := api.FromUnstructured(u)
	if err != nil {
		return Observation{}, err
	}
	return observation(route, now), nil
}

func observation(route *api.MLLPRoute, now time.Time) Observation {
	maxW := route.Spec.EffectiveMaxWeight()
	out := Observation{Namespace: route.Namespace, Name: route.Name, Generation: route.Generation,
		Weight: route.Spec.Weight, MaxWeight: maxW}
	for _, r := range route.Status.Replicas {
		m := r.MaxWeight
		if m == 0 {
			m = maxW
		}
		out.Replicas = append(out.Replicas, ReplicaWeights{Name: r.Name, Weight: r.Weight, MaxWeight: m,
			ObservedGeneration: r.ObservedGeneration, Ready: r.Ready, Message: r.Message, Fresh: r.Fresh(now),
			StableMessages: r.StableMessages, CanaryMessages: r.CanaryMessages})
	}
	return out
}
