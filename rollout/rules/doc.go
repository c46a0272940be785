// Package rules is the single owner of Argo Rollouts' rules over a Rollout that do not need an
// API server: spec validation (what makes a Rollout InvalidSpec, and what lint warns about) and
// the phase/health a Rollout's spec and status amount to. It is pure: what it needs to know
// beyond the Rollout (registered router plugins, existing Services, resolvable analyses) comes
// through an Env, which the controller fills from its caches and lint from the file it reads.
// The canary step arithmetic lives next door in rollout/canary; both are imported by the
// controller, lint, the CLI and the read side, so no rule is written twice.
package rules
