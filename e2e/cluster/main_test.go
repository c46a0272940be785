//go:build e2e

// Package cluster holds the e2e tests that prove the local control plane and
// the shared harness in e2e/framework.
package cluster

import (
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }
