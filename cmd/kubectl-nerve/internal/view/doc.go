// Package view derives what `kubectl nerve` shows about a Rollout (status, message, step,
// weights, images, the revision → ReplicaSet → pod tree and the AnalysisRuns with their latest
// measurements) from api/v1alpha1 objects, and renders it as text. It is pure: the caller
// fetches the objects and passes the current time, so the output is deterministic.
package view
