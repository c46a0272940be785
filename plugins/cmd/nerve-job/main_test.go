package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance"
)

// buildPlugin compiles this main package into a temporary directory.
func buildPlugin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "nerve-job")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestPluginBinary runs the real binary through the conformance suite in wire mode over the real
// go-plugin wire, with no reachable cluster (KUBECONFIG names a missing file, no in-cluster
// service account): every call must cross the wire and answer with an application error or an
// Error measurement, never crash. Functional mode needs a control plane: e2e/providers.
func TestPluginBinary(t *testing.T) {
	bin := buildPlugin(t)
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing-kubeconfig"))
	cfg := json.RawMessage(`{"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}`)
	cases := []struct {
		name string
		opts conformance.Options
	}{
		{"empty config", conformance.Options{Name: "nerve/job"}},
		{"no cluster", conformance.Options{Name: "nerve/job", Config: cfg}},
		{"--name", conformance.Options{Name: "acme/job", Args: []string{"--name", "acme/job"}, Config: cfg}},
		{"detected kind", conformance.Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			rep, err := conformance.Run(ctx, bin, c.opts)
			if err != nil {
				t.Fatalf("conformance.Run: %v", err)
			}
			var out bytes.Buffer
			_ = rep.Write(&out)
			t.Logf("conformance:\n%s", out.String())
			if !rep.Passed() || rep.Kind != plugins.KindMetricProvider {
				t.Fatalf("conformance failed (kind %s):\n%s", rep.Kind, out.String())
			}
		})
	}
	t.Run("bad flag", func(t *testing.T) {
		cmd := exec.CommandContext(t.Context(), bin, "--bogus")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "unknown flag: --bogus") {
			t.Fatalf("exit %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
		}
	})
}
