//go:build e2e

// Package providers holds the e2e tests of the nerve-web and nerve-job metric-provider plugins:
// the real plugin binaries, driven over the real go-plugin wire through plugins/host, against a
// real HTTP endpoint (an httptest server the test starts on 127.0.0.1) and real Jobs on the local
// control plane; and Rollouts whose step analyses use the built-in provider.web and provider.job
// blocks, gated by nerve's loop (the real nerve-controller) with the plugins registered.
//
// kwok's fake nodes run no containers: a Job's pods are created by the real kube-controller-
// manager and scheduled onto kwok nodes, but nothing ever runs them. The tests therefore act as
// the stand-in kubelet: they set the Job's outcome through its status subresource (conditions
// SuccessCriteriaMet+Complete or FailureTarget+Failed, succeeded/failed counts, start and
// completion times), exactly what the Job controller writes when the pod exits.
package providers

import (
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }
