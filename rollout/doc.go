// Package rollout is nerve's core rollout loop: a client-go controller (sample-controller shape:
// informers, typed rate-limited workqueues, one idempotent sync per Rollout and per AnalysisRun)
// that runs Argo Rollouts' canary strategy and AnalysisRuns. Traffic routers and metric providers
// are reached only through plugins (the PluginSource interface, satisfied by plugins/host); this
// package never imports a router or provider implementation.
//
// Two seams keep a sync testable and open to a second strategy:
//
//   - API: every write a sync makes (Rollout status and annotations, ReplicaSets, Service
//     selectors, pods of a restart, AnalysisRuns) and the few live reads behind them go through
//     this interface. ClientAPI implements it over package kube (REST clients for only
//     the kinds the loop uses, not client-go's typed clientset);
//     the package's tests use an in-memory fake that feeds each write back to the listers, so
//     syncRollout runs end to end without an API server. Events go through the
//     record.EventRecorder.
//   - strategy: one reconcile is a rolloutCtx. Its strategy-independent half (sync.go,
//     replicasets.go, restart.go, conditions.go, pause.go, analysisruns.go, services.go)
//     classifies the ReplicaSets, computes the pod and step hashes, creates the new ReplicaSet
//     and keeps revisions, history and restarts, and writes conditions, phase and the status.
//     The strategy (chosen from spec.strategy) does the rest: canaryStrategy in canary*.go runs
//     the steps, weights, traffic, Services, analysis and canary scaling, with the step
//     arithmetic in the pure package rollout/canary. blueGreen would be a second implementation
//     in its own files; validation refuses it today.
//
// The process around the controller (flags, clients, plugin registry, leader election, metrics
// server) lives with its main in cmd/nerve-controller.
package rollout
