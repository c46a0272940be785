// Package api defines the MLLPRoute custom resource (group mllp.nerve.io,
// version v1alpha1): the contract between nerve's MLLP traffic-router plugin
// (which writes the spec) and the nerve-mllp-proxy replicas (which apply it
// and report in the status).
//
// # Spec (written by the router plugin or a human)
//
//	apiVersion: mllp.nerve.io/v1alpha1
//	kind: MLLPRoute
//	metadata: {name: mllp-listener, namespace: clinical-ingestion}
//	spec:
//	  service: mllp-listener        # logical name; the metrics label service="..."
//	  stableService: mllp-listener-stable   # Services in the route's namespace;
//	  canaryService: mllp-listener-canary   # pods are found via their EndpointSlices
//	  port: mllp                    # target port name or number of the Services
//	  weight: 5                     # canary share: weight/maxWeight (maxWeight default 100)
//	  maxWeight: 100
//	  stickyKey: pid3               # pid3 (default; fallback MSH-4+MSH-3) | msh4 | message | connection
//	  matches:                      # any match sends the message to the canary
//	  - {field: MSH-4, exact: LAB1}
//	  - {field: MSH-9, prefix: "ORU^"}
//	  mirror:                       # optional copy of a share of messages
//	    percentage: 10
//	    shadowService: mllp-listener-shadow  # MUST carry label mllp.nerve.io/shadow=true
//	  stableHash: 6d4f...           # recorded by the router (informational)
//	  canaryHash: 7c9a...
//
// Routing: each message's sticky key is hashed (FNV-1a 64) to a bucket
// 0..9999; the message goes to the canary iff bucket < weight*10000/maxWeight.
// The rule is monotone: raising the weight only moves keys stable → canary,
// and weight 0 sends nothing to the canary by weight. Match rules are the HL7
// form of Argo's header routes: a matching message goes to the canary whatever
// the weight, so a router removes them (RemoveManagedRoutes) on abort. If the
// canary has no endpoints, messages (matched or not) go to stable.
//
// Mirror: a copy of mirror.percentage % of messages (chosen by a salted hash
// of the same sticky key, so with pid3 a patient's messages are mirrored all
// or none) is sent to shadowService and its ACK discarded. The proxy refuses to mirror
// (reports Ready=false with a message, and routes normally without mirroring)
// unless that Service carries the label ShadowLabel="true": a mirrored message
// stored twice by a committing backend is a duplicate clinical record.
//
// # Status (written by the proxies)
//
// status.replicas is a list-map keyed by name. Every proxy replica
// server-side-applies ONLY its own entry with its own field manager
// FieldManagerPrefix+<replica name> (force=true) to the status subresource,
// every HeartbeatInterval, and removes it on clean shutdown by applying an
// empty list with the same manager. An entry carries the generation and
// weight the replica applies, its heartbeat time, a ready flag and its
// cumulative message counts per backend (so a CLI can show the observed
// shares). An entry whose heartbeatTime is older than HeartbeatFreshness no
// longer counts (the replica is presumed dead); see ReplicaStatus.Fresh,
// FreshReplicas and Applied. A router's VerifyWeight should return verified
// only when Applied(route, weight, now) is true.
//
// Go access needs no generated clients: use the dynamic client with
// GroupVersionResource() and ToUnstructured / FromUnstructured.
package api
