// Package interop holds the tests that prove nerve's plugin wire contract against the real
// argo-rollouts v1.10.0 module: Argo's RPC clients driving nerve plugins, nerve's host driving
// plugins served with Argo's own types, Argo's sample plugin binaries under nerve's host and
// conformance suite, and golden gob files decoded both ways. It is a separate module so the
// product module never depends on argo-rollouts.
package interop
