//go:build e2e

package gatewayapi

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/router/gatewayapi"
)

// confRoute is the HTTPRoute the conformance runs drive.
const confRoute = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: conf}
spec:
  parentRefs: [{name: gw}]
  rules:
  - name: main
    backendRefs:
    - {name: web-stable, port: 80, weight: 100}
    - {name: web-canary, port: 80, weight: 0}
  - name: fixed
    matches: [{path: {type: Exact, value: /status}}]
    backendRefs:
    - {name: web-stable, port: 80}
`

// TestConformance runs bin/nerve-conformance on the plugin binary in wire mode and in
// functional mode against the local control plane, with the test playing a Gateway that
// accepts every new generation of the route.
func TestConformance(t *testing.T) {
	env := framework.New(t)
	env.Apply(t, confRoute)
	h := &harness{env: env}
	h.keepAccepting(t, "HTTPRoute", "conf")
	before := h.rulesJSON(t, "HTTPRoute", "conf", "main", "nerve-conformance-header", "nerve-conformance-mirror")
	plugin := framework.Binary(t, pluginBinary)
	tool := framework.Binary(t, "nerve-conformance")
	for _, mode := range []string{"wire", "functional"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{"--kind=trafficrouter", "--name=" + gatewayapi.DefaultPluginName, `--config={"httpRoute":"conf"}`,
				"--namespace=" + env.Namespace, "--stable-service=" + stableSvc, "--canary-service=" + canarySvc}
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
	// The suite's header and mirror routes are gone and the other rule is untouched.
	if got := h.rulesJSON(t, "HTTPRoute", "conf", "main"); got != before {
		t.Fatalf("rules after conformance:\nbefore %s\nafter  %s", before, got)
	}
}
