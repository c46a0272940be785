//go:build e2e

// Package mllp is the e2e test of nerve-mllp-proxy's watch mode on the local
// control plane: MLLPRoute + Services + EndpointSlices, the built proxy
// binary with an address map to 127.0.0.1 backends, weight changes, replica
// status, drain, and the seed's Prometheus queries.
package mllp

import (
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }
