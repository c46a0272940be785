// Package view is the typed, read-only model of Argo Rollouts as nerve shows them: a Rollout's
// status, message, step, weights and images, its revision → ReplicaSet → pod tree, its
// AnalysisRuns with each metric's latest measurement, and the live traffic weights its routers
// apply. It is shared by `kubectl nerve` and its web dashboard, so both show the same thing.
//
// The builders (Build, AnalysisRunOf, Metrics, Phase, ...) are pure: they take API objects and
// the current time, so their result is deterministic. Reader fetches those objects with a dynamic
// client and lean typed ones (kube.API: ReplicaSets and pods; gatewayapi.Clients: routes) and
// runs the builders; it never writes. Rendering
// (terminal tables, colours, HTML) belongs to the front ends.
//
// The traffic read side dispatches on the shape of each trafficRouting plugin config, not on
// its key: every router nerve can observe (router/gatewayapi, router/mllp) exposes a config
// decoder and a read-only observer, and Reader tries each decoder in turn.
package view
