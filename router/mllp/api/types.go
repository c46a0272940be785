package api

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Identity of the resource.
const (
	Group    = "mllp.nerve.io"
	Version  = "v1alpha1"
	Kind     = "MLLPRoute"
	ListKind = "MLLPRouteList"
	Resource = "mllproutes"
)

// Timing of the replica status protocol.
const (
	// HeartbeatInterval is how often each proxy replica re-applies its status entry.
	HeartbeatInterval = 2 * time.Second
	// HeartbeatFreshness is the age after which a replica's entry no longer counts.
	HeartbeatFreshness = 10 * time.Second
)

// Other contract constants.
const (
	// FieldManagerPrefix + replica name is the SSA field manager of one replica's status entry.
	FieldManagerPrefix = "nerve-mllp-proxy/"
	// ShadowLabel must be "true" on a Service used as a mirror target.
	ShadowLabel = "mllp.nerve.io/shadow"
	// DefaultMaxWeight is the weight scale when spec.maxWeight is 0.
	DefaultMaxWeight = 100
	// Buckets is the size of the sticky hash space (weight resolution 0.01 %).
	Buckets = 10000
)

// StickyKey selects what a message is hashed on.
type StickyKey string

// Sticky keys.
const (
	StickyPID3       StickyKey = "pid3"       // PID-3 first repetition (CX.1+CX.4), fallback MSH-4+MSH-3
	StickyMSH4       StickyKey = "msh4"       // sending facility + sending application
	StickyMessage    StickyKey = "message"    // MSH-10: every message independently
	StickyConnection StickyKey = "connection" // one decision per client connection
)

// MatchField names the MSH field a match rule tests.
type MatchField string

// Match fields.
const (
	FieldMSH4 MatchField = "MSH-4" // sending facility (HD.1 and full field are both tried)
	FieldMSH9 MatchField = "MSH-9" // message type, e.g. "ADT^A01" (components joined by the message's ^)
)

// MLLPRoute is the route one nerve-mllp-proxy deployment applies.
type MLLPRoute struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MLLPRouteSpec   `json:"spec"`
	Status MLLPRouteStatus `json:"status,omitempty"`
}

// MLLPRouteList is a list of MLLPRoutes.
type MLLPRouteList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MLLPRoute `json:"items"`
}

// MLLPRouteSpec is the desired routing.
type MLLPRouteSpec struct {
	// Service is the logical service name, used as the metrics label service.
	Service string `json:"service"`
	// StableService and CanaryService are Service names in the route's namespace.
	StableService string `json:"stableService"`
	CanaryService string `json:"canaryService,omitempty"`
	// Port is the Services' target port name or number.
	Port intstr.IntOrString `json:"port"`
	// Weight is the canary share in units of 1/MaxWeight.
	Weight int32 `json:"weight"`
	// MaxWeight is the weight scale (default 100).
	MaxWeight int32 `json:"maxWeight,omitempty"`
	// StickyKey selects the hash key (default pid3).
	StickyKey StickyKey `json:"stickyKey,omitempty"`
	// Matches send matching messages to the canary regardless of weight.
	Matches []Match `json:"matches,omitempty"`
	// Mirror copies a share of messages to a shadow backend.
	Mirror *Mirror `json:"mirror,omitempty"`
	// StableHash and CanaryHash are recorded by the router (pod-template hashes).
	StableHash string `json:"stableHash,omitempty"`
	CanaryHash string `json:"canaryHash,omitempty"`
}

// Match is one rule; exactly one of Exact, Prefix, Regex is set.
type Match struct {
	// Name is an optional label for the rule (e.g. the Argo header route name).
	Name   string     `json:"name,omitempty"`
	Field  MatchField `json:"field"`
	Exact  string     `json:"exact,omitempty"`
	Prefix string     `json:"prefix,omitempty"`
	Regex  string     `json:"regex,omitempty"`
}

// Mirror copies Percentage % of messages to ShadowService (ACK discarded).
type Mirror struct {
	Percentage int32 `json:"percentage"`
	// ShadowService must carry the label ShadowLabel="true".
	ShadowService string `json:"shadowService"`
}

// MLLPRouteStatus is written by the proxy replicas.
type MLLPRouteStatus struct {
	// Replicas holds one entry per proxy replica (list-map keyed by name).
	Replicas []ReplicaStatus `json:"replicas,omitempty"`
}

// ReplicaStatus is one proxy replica's report.
type ReplicaStatus struct {
	Name               string      `json:"name"`
	ObservedGeneration int64       `json:"observedGeneration"`
	Weight             int32       `json:"weight"`
	MaxWeight          int32       `json:"maxWeight,omitempty"`
	HeartbeatTime      metav1.Time `json:"heartbeatTime"`
	// Ready is true when the replica applies the spec fully (backends resolved, mirror allowed).
	Ready bool `json:"ready"`
	// Message explains Ready=false (never contains PHI).
	Message string `json:"message,omitempty"`
	// Cumulative counts since the replica started.
	StableMessages int64 `json:"stableMessages"`
	CanaryMessages int64 `json:"canaryMessages"`
	MirrorMessages int64 `json:"mirrorMessages,omitempty"`
	// Endpoint counts currently resolved.
	StableEndpoints int32 `json:"stableEndpoints"`
	CanaryEndpoints int32 `json:"canaryEndpoints"`
}
