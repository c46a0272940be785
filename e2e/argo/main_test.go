//go:build e2e

// Package argo holds the e2e proof against the real Argo Rollouts v1.10.0: the real
// rollouts-controller (built by hack/argo/build.sh), with nerve's plugins registered in its
// argo-rollouts-config (file:// locations, real sha256), runs the same scenarios as nerve's loop,
// in parallel in separate namespaces, to the same observable result: a timed canary; a step
// analysis gated by nerve/prometheus against the real Prometheus (Successful/Healthy on a good
// gauge, Failed/aborted on a bad one, with Argo's messages); the same gated canary routed by
// nerve/gatewayAPI on an HTTPRoute (same weights) and by nerve/mllp with live HL7 traffic through
// two nerve-mllp-proxy processes (same MLLPRoute weights, a quarter of the messages to the canary
// at 25%, none to the losing pods at the end). The other way round, the real kubectl-argo-rollouts
// renders and drives (promote/abort/retry) Rollouts run by nerve's loop.
package argo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// argoDir is the directory of the Argo binaries and CRDs (hack/argo/build.sh's output).
var argoDir string

func TestMain(m *testing.M) {
	dir, err := buildArgo()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e/argo: hack/argo/build.sh failed:", err)
		os.Exit(1)
	}
	argoDir = dir
	framework.Main(m)
}

// buildArgo runs hack/argo/build.sh (fast when cached) and returns the directory it prints.
func buildArgo() (string, error) {
	root, err := framework.RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(filepath.Join(root, "hack", "argo", "build.sh"))
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	dir := lines[len(lines)-1]
	for _, b := range []string{"rollouts-controller", "kubectl-argo-rollouts"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", err
		}
	}
	return dir, nil
}
