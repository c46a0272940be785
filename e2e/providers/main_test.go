//go:build e2e

// Package providers holds the e2e tests of the nerve-web and nerve-job metric-provider plugins:
// the real plugin binaries, driven over the real go-plugin wire through plugins/host, against a
// real HTTP endpoint (an httptest server the test starts on 127.0.0.1) and real Jobs on the local
// control plane; and Rollouts whose step analyses use the built-in provider.web and provider.job
// blocks, gated by nerve's loop (the real nerve-controller) with the plugins registered.
//
// kwok's fake nodes run no containers. kwok's default stages do move a Job's pod to Succeeded, so
// the real kube-controller-manager marks such a Job Complete: the canary test that expects a pass
// lets that happen. Where a test needs to decide the outcome (a Job still running, or failing),
// the Job's pod is pinned to no node (a nodeSelector no kwok node carries) and the test acts as
// the stand-in kubelet: it writes the outcome the Job controller would write when the pod exits
// (conditions SuccessCriteriaMet+Complete or FailureTarget+Failed, succeeded/failed counts, start
// and completion times) through the Job's status subresource.
package providers

import (
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }
