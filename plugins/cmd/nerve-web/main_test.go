package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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
	bin := filepath.Join(t.TempDir(), "nerve-web")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestPluginBinary runs the real binary through the conformance suite over the real go-plugin
// wire: wire mode with an empty config (application errors only) and an unreachable endpoint,
// functional mode against an httptest endpoint, a non-default --name, and a bad flag.
func TestPluginBinary(t *testing.T) {
	bin := buildPlugin(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"status":{"healthy":true,"errorRate":0.001}}`)
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	good := json.RawMessage(`{"url":"` + srv.URL + `","jsonPath":"{$.status.errorRate}","timeoutSeconds":5}`)
	cases := []struct {
		name string
		opts conformance.Options
	}{
		{"empty config", conformance.Options{Name: "nerve/web"}},
		{"unreachable endpoint", conformance.Options{Name: "nerve/web", Config: json.RawMessage(`{"url":"` + closedURL + `"}`)}},
		{"functional", conformance.Options{Name: "nerve/web", Config: good, Functional: true,
			SuccessCondition: "result < 0.01", FailureCondition: "result >= 0.01"}},
		{"--name", conformance.Options{Name: "acme/web", Args: []string{"--name", "acme/web"}, Config: good, Functional: true}},
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
			if c.opts.Functional && !strings.Contains(out.String(), `phase=Successful value="0.001"`) {
				t.Fatalf("functional Run did not measure the endpoint's value:\n%s", out.String())
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
