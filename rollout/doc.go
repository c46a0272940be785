// Package rollout is nerve's core rollout loop: a client-go controller (sample-controller shape:
// informers, typed rate-limited workqueues, one idempotent sync per Rollout and per AnalysisRun)
// that runs Argo Rollouts' canary strategy and AnalysisRuns. Traffic routers and metric providers
// are reached only through plugins (the PluginSource interface, satisfied by plugins/host); this
// package never imports a router or provider implementation.
package rollout
