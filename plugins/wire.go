package plugins

import (
	"encoding/gob"

	"github.com/hashicorp/go-plugin"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// ---------------------------------------------------------------------------------------------
// Wire contract. Everything in this file is the Argo Rollouts plugin protocol as spoken by
// argo-rollouts v1.5+ (unchanged through v1.10): hashicorp/go-plugin, net/rpc ("netrpc") with gob.
// Every string, field name and field kind below must stay exactly as it is; the golden tests in
// plugins/wire_test.go and the interop module (interop/) fail on any drift.
// ---------------------------------------------------------------------------------------------

// Handshake values.
const (
	ProtocolVersion           = 1
	MagicCookieKey            = "ARGO_ROLLOUTS_RPC_PLUGIN"
	MagicCookieTrafficRouter  = "trafficrouter"
	MagicCookieMetricProvider = "metricprovider"
)

// Dispense keys (the go-plugin plugin-map keys).
const (
	DispenseTrafficRouter  = "RpcTrafficRouterPlugin"
	DispenseMetricProvider = "RpcMetricProviderPlugin"
)

// Data keys of the argo-rollouts-config ConfigMap, one list of plugin items per kind.
const (
	ConfigKeyTrafficRouters  = "trafficRouterPlugins"
	ConfigKeyMetricProviders = "metricProviderPlugins"
)

// Kind names a plugin kind as the argo-rollouts-config ConfigMap and nerve's flags spell it.
type Kind string

// Plugin kinds.
const (
	KindTrafficRouter  Kind = "trafficrouter"
	KindMetricProvider Kind = "metricprovider"
)

// KindSpec is the wire contract of one plugin kind: what the host and the plugin must agree on
// to find each other, and where the kind's plugins are registered.
type KindSpec struct {
	Kind Kind
	// Cookie is the kind's MagicCookieValue (under MagicCookieKey).
	Cookie string
	// DispenseKey is the go-plugin plugin-map key the plugin serves.
	DispenseKey string
	// ConfigKey is the argo-rollouts-config data key listing the kind's plugins.
	ConfigKey string
	// Human is the kind's name in messages ("traffic router").
	Human string
}

// Kinds returns every plugin kind, in the order DetectKind tries their handshakes. Adding a
// kind (Argo's step plugins: Kind "step", cookie "step", dispense key "RpcStep", ConfigMap key
// "stepPlugins") is one row here plus its interface and shims.
func Kinds() []KindSpec {
	return []KindSpec{
		{Kind: KindTrafficRouter, Cookie: MagicCookieTrafficRouter, DispenseKey: DispenseTrafficRouter,
			ConfigKey: ConfigKeyTrafficRouters, Human: "traffic router"},
		{Kind: KindMetricProvider, Cookie: MagicCookieMetricProvider, DispenseKey: DispenseMetricProvider,
			ConfigKey: ConfigKeyMetricProviders, Human: "metric provider"},
	}
}

// Spec returns the wire contract of kind; ok is false for an unknown kind.
func Spec(kind Kind) (spec KindSpec, ok bool) {
	for _, s := range Kinds() {
		if s.Kind == kind {
			return s, true
		}
	}
	return KindSpec{}, false
}

// Known reports whether k is a plugin kind of the table.
func (k Kind) Known() bool {
	_, ok := Spec(k)
	return ok
}

// Handshake returns the go-plugin handshake of a plugin kind. An unknown kind gets an empty
// cookie, which every plugin refuses.
func Handshake(kind Kind) plugin.HandshakeConfig {
	s, _ := Spec(kind)
	return plugin.HandshakeConfig{ProtocolVersion: ProtocolVersion, MagicCookieKey: MagicCookieKey, MagicCookieValue: s.Cookie}
}

// DispenseKey returns the plugin-map key of a plugin kind ("" for an unknown kind).
func DispenseKey(kind Kind) string {
	s, _ := Spec(kind)
	return s.DispenseKey
}

// ConfigKey returns the argo-rollouts-config data key of a plugin kind ("" for an unknown kind).
func ConfigKey(kind Kind) string {
	s, _ := Spec(kind)
	return s.ConfigKey
}

// gob interface payload names. Arguments travel as `any`, so gob sends these names; the receiver
// must have registered the same name and gets back a pointer to its own type.
const (
	GobUpdateHashArgs               = "UpdateHashArgs"
	GobSetWeightAndVerifyWeightArgs = "SetWeightAndVerifyWeightArgs"
	GobSetHeaderArgs                = "SetHeaderArgs"
	GobSetMirrorArgs                = "SetMirrorArgs"
	GobRemoveManagedRoutesArgs      = "RemoveManagedRoutesArgs"
	GobRunArgs                      = "RunArgs"
	GobTerminateAndResumeArgs       = "TerminateAndResumeArgs"
	GobGarbageCollectArgs           = "GarbageCollectArgs"
	GobGetMetadataArgs              = "GetMetadataArgs"
	GobRpcError                     = "RpcError"
)

// net/rpc method names. go-plugin registers the dispensed server as "Plugin".
const (
	MethodInitPlugin          = "Plugin.InitPlugin"
	MethodType                = "Plugin.Type"
	MethodUpdateHash          = "Plugin.UpdateHash"
	MethodSetWeight           = "Plugin.SetWeight"
	MethodSetHeaderRoute      = "Plugin.SetHeaderRoute"
	MethodSetMirrorRoute      = "Plugin.SetMirrorRoute"
	MethodVerifyWeight        = "Plugin.VerifyWeight"
	MethodRemoveManagedRoutes = "Plugin.RemoveManagedRoutes"
	MethodRun                 = "Plugin.Run"
	MethodResume              = "Plugin.Resume"
	MethodTerminate           = "Plugin.Terminate"
	MethodGarbageCollect      = "Plugin.GarbageCollect"
	MethodGetMetadata         = "Plugin.GetMetadata"
)

// TrafficRouterMethods lists the 8 traffic-router methods in call order of a conformance run.
func TrafficRouterMethods() []string {
	return []string{MethodInitPlugin, MethodType, MethodUpdateHash, MethodSetWeight, MethodSetHeaderRoute,
		MethodSetMirrorRoute, MethodVerifyWeight, MethodRemoveManagedRoutes}
}

// MetricProviderMethods lists the 7 metric-provider methods in call order of a conformance run.
func MetricProviderMethods() []string {
	return []string{MethodInitPlugin, MethodType, MethodGetMetadata, MethodRun, MethodResume, MethodTerminate,
		MethodGarbageCollect}
}

// RpcError is the only error type on the wire; "" means no error.
//
//nolint:revive // the name is the protocol's.
type RpcError struct {
	ErrorString string
}

// HasError reports whether e carries an error.
func (e RpcError) HasError() bool { return e.ErrorString != "" }

// Error implements error.
func (e RpcError) Error() string { return e.ErrorString }

// RpcVerified is VerifyWeight's tri-state answer.
//
//nolint:revive // the name is the protocol's.
type RpcVerified int32

// VerifyWeight answers. The controller maps them to *bool false/true/nil; unknown values are false.
const (
	NotVerified    RpcVerified = 0
	Verified       RpcVerified = 1
	NotImplemented RpcVerified = 2
)

// String names the answer.
func (v RpcVerified) String() string {
	switch v {
	case Verified:
		return "Verified"
	case NotImplemented:
		return "NotImplemented"
	default:
		return "NotVerified"
	}
}

// UpdateHashArgs are the arguments of Plugin.UpdateHash.
type UpdateHashArgs struct {
	Rollout                v1alpha1.Rollout
	CanaryHash             string
	StableHash             string
	AdditionalDestinations []v1alpha1.WeightDestination
}

// SetWeightAndVerifyWeightArgs are the arguments of Plugin.SetWeight and Plugin.VerifyWeight.
type SetWeightAndVerifyWeightArgs struct {
	Rollout                v1alpha1.Rollout
	DesiredWeight          int32
	AdditionalDestinations []v1alpha1.WeightDestination
}

// SetHeaderArgs are the arguments of Plugin.SetHeaderRoute.
type SetHeaderArgs struct {
	Rollout        v1alpha1.Rollout
	SetHeaderRoute v1alpha1.SetHeaderRoute
}

// SetMirrorArgs are the arguments of Plugin.SetMirrorRoute.
type SetMirrorArgs struct {
	Rollout        v1alpha1.Rollout
	SetMirrorRoute v1alpha1.SetMirrorRoute
}

// RemoveManagedRoutesArgs are the arguments of Plugin.RemoveManagedRoutes.
type RemoveManagedRoutesArgs struct {
	Rollout v1alpha1.Rollout
}

// VerifyWeightResponse is the response of Plugin.VerifyWeight.
type VerifyWeightResponse struct {
	Verified RpcVerified
	Err      RpcError
}

// RunArgs are the arguments of Plugin.Run.
type RunArgs struct {
	AnalysisRun *v1alpha1.AnalysisRun
	Metric      v1alpha1.Metric
}

// TerminateAndResumeArgs are the arguments of Plugin.Resume and Plugin.Terminate.
type TerminateAndResumeArgs struct {
	AnalysisRun *v1alpha1.AnalysisRun
	Metric      v1alpha1.Metric
	Measurement v1alpha1.Measurement
}

// GarbageCollectArgs are the arguments of Plugin.GarbageCollect.
type GarbageCollectArgs struct {
	AnalysisRun *v1alpha1.AnalysisRun
	Metric      v1alpha1.Metric
	Limit       int
}

// GetMetadataArgs are the arguments of Plugin.GetMetadata.
type GetMetadataArgs struct {
	Metric v1alpha1.Metric
}

// RegisterGobNames registers the interface payload names with encoding/gob. It is idempotent and
// called by every server and client constructor in this package (never from init, so a process
// that also links Argo's own rpc packages — the interop tests — is not forced into a clash).
func RegisterGobNames() {
	gob.RegisterName(GobUpdateHashArgs, new(UpdateHashArgs))
	gob.RegisterName(GobSetWeightAndVerifyWeightArgs, new(SetWeightAndVerifyWeightArgs))
	gob.RegisterName(GobSetHeaderArgs, new(SetHeaderArgs))
	gob.RegisterName(GobSetMirrorArgs, new(SetMirrorArgs))
	gob.RegisterName(GobRemoveManagedRoutesArgs, new(RemoveManagedRoutesArgs))
	gob.RegisterName(GobRunArgs, new(RunArgs))
	gob.RegisterName(GobTerminateAndResumeArgs, new(TerminateAndResumeArgs))
	gob.RegisterName(GobGarbageCollectArgs, new(GarbageCollectArgs))
	gob.RegisterName(GobGetMetadataArgs, new(GetMetadataArgs))
	gob.RegisterName(GobRpcError, new(RpcError))
}
