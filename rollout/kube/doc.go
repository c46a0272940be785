// Package kube is the controller's lean Kubernetes client layer: REST clients (Resources of the
// top-level kube package) for the few kinds the controller reads and writes (Rollouts,
// AnalysisRuns and their templates, ReplicaSets, Pods, Services, Secrets, ConfigMaps, Events,
// Leases, Evictions), a scheme that registers only their
// API groups, list-watches for informers, an event recorder, and Lease-based leader election.
//
// It exists for size: client-go's typed clientset (k8s.io/client-go/kubernetes), its scheme and
// its leader-election package link every built-in API group, and its event recorder
// (tools/record) links the OpenAPI and strategic-merge-patch machinery; together they were most
// of the controller binary and of its resident memory. Everything here makes the same REST
// calls the typed clientset makes (same paths, verbs, options and bodies), and Recorder and
// LeaderElection keep the behaviour of client-go's recorder and leader election.
package kube
