// Package canary holds the pure step, weight and replica arithmetic of the canary strategy:
// which step is current, which traffic weight it asks for, and how many canary and stable
// replicas that means. It follows Argo Rollouts' semantics (utils/replicaset/canary.go) so that a
// Rollout written for Argo progresses identically; nothing here talks to the API server.
package canary
