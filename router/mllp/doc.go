// Package mllp is nerve's MLLP traffic router: an Argo Rollouts traffic-router
// implementation (plugins.TrafficRouter) that drives nerve-mllp-proxy replicas
// through the MLLPRoute custom resource (router/mllp/api). The router never
// carries traffic itself: plugins are child processes that a controller kills
// and respawns at will, so it only writes the route's spec and reads what the
// proxy replicas report in its status.
//
// Config, under spec.strategy.canary.trafficRouting.plugins[<name>] (default
// name nerve/mllp):
//
//	route: mllp-listener        # MLLPRoute name (required)
//	namespace: clinical         # MLLPRoute namespace (default: the Rollout's)
//	headers: {X-Facility: MSH-4} # extra setHeaderRoute header names -> MSH-4 | MSH-9
//	mirrorService: svc-shadow   # mirror target (default: the canaryService)
//	verifyTimeout: 2s           # VerifyWeight waits up to this long for the replicas (default 0)
//
// Method mapping:
//   - SetWeight writes spec.weight and spec.maxWeight (trafficRouting.maxTrafficWeight)
//     and the Rollout's stable/canary Services; it writes nothing when unchanged and
//     retries on conflicts.
//   - UpdateHash records spec.canaryHash / spec.stableHash.
//   - VerifyWeight is Verified only when api.Applied holds: at least one proxy replica
//     has a fresh heartbeat and every fresh replica reports the desired weight for the
//     route's current generation. Otherwise it is NotVerified with a nil error (an error
//     would block Argo's reconcile); the lagging replicas are logged and written to the
//     route's annotation VerifyAnnotation (status belongs to the proxies).
//   - SetHeaderRoute maps one header match onto one spec.matches rule named after the
//     managed route: header MSH-4 (aliases sending-facility, facility, msh4) or MSH-9
//     (message-type, msh9), exact/prefix/regex. A nil match removes the route's rules.
//     MLLP match rules are ORed, so a route with more than one (ANDed) match is refused.
//   - SetMirrorRoute sets spec.mirror {percentage, shadowService}; the target Service
//     must carry api.ShadowLabel=true, else the call fails. HTTP method/path/header
//     matches cannot apply to HL7 and are ignored (logged); a nil match removes the mirror.
//   - RemoveManagedRoutes clears spec.matches and spec.mirror: the router owns both.
package mllp
