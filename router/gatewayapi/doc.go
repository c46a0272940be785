// Package gatewayapi is nerve's Gateway API traffic router: it shifts a Rollout's traffic between
// its stable and canary Services by editing the backendRef weights of HTTPRoutes, GRPCRoutes,
// TCPRoutes and TLSRoutes (all gateway.networking.k8s.io/v1), adds and removes managed header and
// mirror rules, and verifies that the Gateway implementation accepted each change.
//
// It accepts the configuration of argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi
// (see Config) under a configurable plugin key, and fixes that plugin's known defects:
//
//   - weights are relative to spec.strategy.canary.trafficRouting.maxTrafficWeight (not 100), and
//     the stable weight leaves room for experiments' additional destinations;
//   - only rules that reference both the stable and the canary Service are weighted; every other
//     rule, and every other backendRef, is left byte for byte as it is (argoproj-labs#217);
//   - managed rules are identified only by their rule name (the managed route's name, or
//     "<name>-<n>" for the n-th extra source rule), so several header routes on the same header
//     coexist (argoproj-labs#215) and no structural guess ever deletes a user's rule;
//   - SetMirrorRoute adds an HTTPRoute rule with a RequestMirror filter (argoproj-labs#32);
//   - VerifyWeight really verifies: the desired weights must be in every route's spec and every
//     parent in status.parents must report Accepted=True and ResolvedRefs=True for the route's
//     current generation;
//   - writes are JSON patches guarded by a resourceVersion test that change only the managed
//     paths (so fields newer than this package's Gateway API types survive), retried on conflict,
//     and skipped entirely when nothing changes.
package gatewayapi
