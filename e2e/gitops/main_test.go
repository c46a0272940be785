//go:build e2e

// Package gitops is the e2e test of kubectl nerve's GitOps half on the local control plane,
// with Argo CD's real CRDs (manifests/vendor/argo-cd) and real git repositories: a bare remote
// and working copies in temporary directories.
//
// Argo CD itself does not run here. Its place is taken by a stand-in (standInArgoCDSync, test
// code only): it renders the environment's directory at the remote's HEAD, server-side applies
// it as argocd-controller (keeping the ignored fields' live values, as RespectIgnoreDifferences
// does), and writes the Application's status. Everything else is real: nerve-controller runs
// the canaries with the e2e metric plugin, the MLLP router's own code writes the canary weight,
// and kubectl nerve is the built binary run as a kubectl plugin.
package gitops

import (
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }
