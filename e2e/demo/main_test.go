//go:build e2e

// Package demo runs the demo scenario (hack/demo/scenario, what `make demo`
// runs) headless on the local control plane, for the good and the bad
// version, and asserts from the logs only: the good version ends Healthy at
// 100 %; the bad one's analysis fails and the rollout aborts back to stable;
// in both, 0 HL7 messages are lost and 0 are reordered per patient.
package demo

import (
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }
