//go:build e2e

// Package prometheus holds the e2e tests of the nerve-prometheus metric provider plugin: the real
// plugin binary, driven over the real go-plugin wire through plugins/host, queries the real local
// Prometheus (from `make cluster-up`) that scrapes a test target whose values the test controls.
package prometheus

import (
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }
