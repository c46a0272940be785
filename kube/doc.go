// Package kube is nerve's lean Kubernetes client layer: REST clients for the few kinds the
// controller reads and writes (Rollouts, AnalysisRuns and their templates, ReplicaSets, Pods,
// Services, Secrets, ConfigMaps, Events, Leases, Evictions), a scheme that registers only their
// API groups, list-watches for informers, an event sink for client-go's event recorder, and
// Lease-based leader election.
//
// It exists for size: client-go's typed clientset (k8s.io/client-go/kubernetes), its scheme and
// its leader-election package link every built-in API group, which is most of a controller
// binary and of its resident memory. Everything here speaks the same REST calls the typed
// clientset makes (same paths, verbs, options and bodies).
package kube
