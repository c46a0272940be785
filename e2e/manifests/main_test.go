//go:build e2e

// Package manifests checks nerve's whole deploy tree (manifests/) against the
// local control plane: every kustomization renders and every object applies
// with a server-side dry-run (with Argo CD's own CRDs installed, vendored in
// manifests/vendor/argo-cd), the GitOps tree has the seed's shape (one root
// app of apps per environment with the 9 child Applications, each pointing
// at its environment's path, which renders), and the demo overlay adds only what the seed's excerpt leaves out.
package manifests

import (
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }
