// Package actions holds the rollout actions that `kubectl nerve` and its dashboard share:
// Argo Rollouts' exact merge patches for promote (--full), abort, retry, pause, resume and
// restart, the plan that says in words what a promote will skip, and Apply, which sends a patch
// the way Argo's CLI does (status subresource first, then spec).
package actions
