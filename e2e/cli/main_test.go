//go:build e2e

// Package cli holds the e2e tests of `kubectl nerve`: the built kubectl-nerve binary, found by
// kubectl's plugin discovery on PATH, drives real rollouts run by a nerve-controller process on
// the local control plane; a krew test installs the `make dist` archive with krew; and a
// benchmark compares `kubectl nerve get rollout` with `kubectl get rollout -o yaml`.
package cli

import (
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }
