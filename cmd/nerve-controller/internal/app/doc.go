// Package app assembles the nerve controller process: flags, clients, the plugin host fed from
// the argo-rollouts-config ConfigMap (hot-reloaded) and a plugin directory, leader election,
// the metrics and health endpoint, and the rollout controller itself. cmd/nerve-controller is
// a thin main around it.
package app
