//go:build e2e

package mllprouter

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/router/mllp"
)

// TestConformance runs bin/nerve-conformance on the plugin binary in wire mode and in
// functional mode against the local control plane, with a live proxy following the route
// (functional mode needs VerifyWeight Verified after SetWeight). The suite's X-Canary header
// is mapped to MSH-4 through the plugin config, and the canary Service is flagged shadow so
// that its setMirrorRoute is allowed.
func TestConformance(t *testing.T) {
	env := framework.New(t)
	installCRD(t, env)
	s := newSite(t, env, "conf", "10.244.92", true)
	s.startProxy(t, "conf-proxy-0")
	s.waitReplicas(t, 1, 0)
	plugin := framework.Binary(t, pluginBinary)
	tool := framework.Binary(t, "nerve-conformance")
	cfg := `{"route":"conf","headers":{"X-Canary":"MSH-4"},"verifyTimeout":"5s"}`
	for _, mode := range []string{"wire", "functional"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{"--kind=trafficrouter", "--name=" + mllp.DefaultPluginName, "--config=" + cfg,
				"--namespace=" + env.Namespace, "--rollout=conf", "--stable-service=conf-stable", "--canary-service=conf-canary", "--weight=30"}
			if mode == "functional" {
				args = append(args, "--functional")
			}
			args = append(args, plugin)
			cmd := exec.CommandContext(t.Context(), tool, args...)
			var out, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &stderr
			err := cmd.Run()
			t.Logf("nerve-conformance %s:\n%s", strings.Join(args, " "), out.String())
			if err != nil {
				t.Fatalf("nerve-conformance (%s mode) failed: %v\n%s", mode, err, stderr.String())
			}
			if strings.Contains(out.String(), "FAIL") || strings.Count(out.String(), "PASS") < 8 {
				t.Fatalf("unexpected report:\n%s", out.String())
			}
		})
	}
	route, err := s.getRoute(t.Context())
	must(t, "get route", err)
	if len(route.Spec.Matches) != 0 || route.Spec.Mirror != nil || route.Spec.Weight != 0 {
		t.Fatalf("route after conformance (managed routes removed, weight 0 expected): %+v", route.Spec)
	}
	if route.Spec.CanaryHash != "c0ffee" || route.Spec.StableHash != "5ab1e" {
		t.Fatalf("hashes not recorded: %+v", route.Spec)
	}
}
