package api

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is mllp.nerve.io/v1alpha1.
func GroupVersion() schema.GroupVersion { return schema.GroupVersion{Group: Group, Version: Version} }

// GroupVersionResource addresses mllproutes for the dynamic client.
func GroupVersionResource() schema.GroupVersionResource {
	return GroupVersion().WithResource(Resource)
}

// GroupVersionKind is the MLLPRoute kind.
func GroupVersionKind() schema.GroupVersionKind { return GroupVersion().WithKind(Kind) }

// FieldManager is the SSA field manager a replica uses for its status entry.
func FieldManager(replica string) string { return FieldManagerPrefix + replica }

// Fresh reports whether the entry's heartbeat is at most HeartbeatFreshness old.
func (r ReplicaStatus) Fresh(now time.Time) bool {
	return !r.HeartbeatTime.IsZero() && now.Sub(r.HeartbeatTime.Time) <= HeartbeatFreshness
}

// FreshReplicas returns the entries that still count.
func (s MLLPRouteStatus) FreshReplicas(now time.Time) []ReplicaStatus {
	var out []ReplicaStatus
	for _, r := range s.Replicas {
		if r.Fresh(now) {
			out = append(out, r)
		}
	}
	return out
}

// EffectiveMaxWeight returns MaxWeight or DefaultMaxWeight.
func (s MLLPRouteSpec) EffectiveMaxWeight() int32 {
	if s.MaxWeight <= 0 {
		return DefaultMaxWeight
	}
	return s.MaxWeight
}

// EffectiveStickyKey returns StickyKey or StickyPID3.
func (s MLLPRouteSpec) EffectiveStickyKey() StickyKey {
	if s.StickyKey == "" {
		return StickyPID3
	}
	return s.StickyKey
}

// Threshold is the canary bucket bound: a key bucket b (0..Buckets-1) goes to
// the canary iff b < Threshold().
func (s MLLPRouteSpec) Threshold() uint32 {
	return WeightThreshold(s.Weight, s.EffectiveMaxWeight())
}

// WeightThreshold converts weight/maxWeight to a bucket bound in 0..Buckets.
func WeightThreshold(weight, maxWeight int32) uint32 {
	if maxWeight <= 0 {
		maxWeight = DefaultMaxWeight
	}
	if weight <= 0 {
		return 0
	}
	if weight >= maxWeight {
		return Buckets
	}
	return uint32(int64(weight) * Buckets / int64(maxWeight))
}

// Applied reports whether at least one replica is fresh and every fresh replica
// reports the route's current generation and the given weight. A router's
// VerifyWeight returns verified only when this is true.
func Applied(route *MLLPRoute, weight int32, now time.Time) bool {
	fresh := route.Status.FreshReplicas(now)
	if len(fresh) == 0 {
		return false
	}
	for _, r := range fresh {
		if r.ObservedGeneration < route.Generation || r.Weight != weight {
			return false
		}
	}
	return true
}

// Validate checks the spec; the proxy refuses (Ready=false) an invalid one.
func (s MLLPRouteSpec) Validate() error {
	if s.Service == "" || s.StableService == "" {
		return fmt.Errorf("spec.service and spec.stableService are required")
	}
	mw := s.EffectiveMaxWeight()
	if s.Weight < 0 || s.Weight > mw {
		return fmt.Errorf("spec.weight %d outside 0..%d", s.Weight, mw)
	}
	switch s.EffectiveStickyKey() {
	case StickyPID3, StickyMSH4, StickyMessage, StickyConnection:
	default:
		return fmt.Errorf("spec.stickyKey %q unknown", s.StickyKey)
	}
	for i, m := range s.Matches {
		if err := m.validate(); err != nil {
			return fmt.Errorf("spec.matches[%d]: %w", i, err)
		}
	}
	if s.Mirror != nil && (s.Mirror.Percentage < 0 || s.Mirror.Percentage > 100 || s.Mirror.ShadowService == "") {
		return fmt.Errorf("spec.mirror needs shadowService and percentage 0..100")
	}
	return nil
}

func (m Match) validate() error {
	if m.Field != FieldMSH4 && m.Field != FieldMSH9 {
		return fmt.Errorf("field %q must be MSH-4 or MSH-9", m.Field)
	}
	n := 0
	for _, v := range []string{m.Exact, m.Prefix, m.Regex} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("exactly one of exact, prefix, regex must be set")
	}
	return nil
}

// FromUnstructured converts a dynamic-client object to an MLLPRoute.
func FromUnstructured(u *unstructured.Unstructured) (*MLLPRoute, error) {
	var r MLLPRoute
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &r); err != nil {
		return nil, fmt.Errorf("decode MLLPRoute %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return &r, nil
}

// ToUnstructured converts an MLLPRoute (apiVersion/kind are filled in).
func ToUnstructured(r *MLLPRoute) (*unstructured.Unstructured, error) {
	c := r.DeepCopy()
	c.APIVersion, c.Kind = GroupVersion().String(), Kind
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c)
	if err != nil {
		return nil, fmt.Errorf("encode MLLPRoute: %w", err)
	}
	return &unstructured.Unstructured{Object: obj}, nil
}

// ReplicaApplyPatch builds the server-side-apply body with which a replica
// writes only its own status entry (nil entry: remove the replica's entry).
func ReplicaApplyPatch(namespace, name string, entry *ReplicaStatus) (*unstructured.Unstructured, error) {
	st := map[string]any{"replicas": []any{}}
	if entry != nil {
		e, err := runtime.DefaultUnstructuredConverter.ToUnstructured(entry)
		if err != nil {
			return nil, fmt.Errorf("encode replica status: %w", err)
		}
		st["replicas"] = []any{e}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": GroupVersion().String(),
		"kind":       Kind,
		"metadata":   map[string]any{"name": name, "namespace": namespace},
		"status":     st,
	}}, nil
}
