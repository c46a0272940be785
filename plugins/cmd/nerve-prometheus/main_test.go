package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
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
	bin := filepath.Join(t.TempDir(), "nerve-prometheus")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

// conformanceWireMode runs the real binary through the conformance suite in wire mode: every
// method crosses the real go-plugin wire, on a fresh process and after InitPlugin, with an empty
// config (application errors only), an unreachable Prometheus, and a non-default --name.
func TestPluginBinary(t *testing.T) {
	bin := buildPlugin(t)
	t.Run("conformance wire mode", func(t *testing.T) { conformanceWireMode(t, bin) })
	t.Run("bad flag", func(t *testing.T) { badFlag(t, bin) })
}

func conformanceWireMode(t *testing.T, bin string) {
	cases := []struct {
		name string
		opts conformance.Options
	}{
		{"empty config", conformance.Options{Name: "nerve/prometheus"}},
		{"unreachable prometheus", conformance.Options{Name: "nerve/prometheus",
			Config:           json.RawMessage(`{"address":"` + closedAddr(t) + `","query":"up","timeout":2}`),
			SuccessCondition: "result[0] == 1"}},
		{"--name", conformance.Options{Name: "acme/prom", Args: []string{"--name", "acme/prom"},
			Config: json.RawMessage(`{"address":"` + closedAddr(t) + `","query":"up"}`)}},
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
			t.Logf("conformance (wire mode):\n%s", out.String())
			if !rep.Passed() || rep.Kind != plugins.KindMetricProvider {
				t.Fatalf("conformance failed (kind %s):\n%s", rep.Kind, out.String())
			}
		})
	}
}

// badFlag: an unknown flag exits 2 with the error on stderr and nothing on stdout.
func badFlag(t *testing.T, bin string) {
	cmd := exec.CommandContext(t.Context(), bin, "--bogus")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v, want exit status 2", err)
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "unknown flag: --bogus") {
		t.Fatalf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}
