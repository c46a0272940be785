package conformance

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/plugins"
)

// RunTrafficRouter runs the suite on a traffic-router binary from a plugin's tests: every
// failing method is a test error; every line is logged.
func RunTrafficRouter(t testing.TB, bin string, opts Options) *Report {
	t.Helper()
	opts.Kind = plugins.KindTrafficRouter
	return runT(t, bin, opts)
}

// RunMetricProvider runs the suite on a metric-provider binary (see RunTrafficRouter).
func RunMetricProvider(t testing.TB, bin string, opts Options) *Report {
	t.Helper()
	opts.Kind = plugins.KindMetricProvider
	return runT(t, bin, opts)
}

// runT runs the suite and reports to t.
func runT(t testing.TB, bin string, opts Options) *Report {
	t.Helper()
	rep, err := Run(testContext(t), bin, opts)
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	for _, r := range rep.Results {
		if r.Pass {
			t.Log(r)
		} else {
			t.Error(r)
		}
	}
	return rep
}

// RunExpectKind runs the suite with opts as given (an empty Kind is detected from the binary)
// within two minutes, logs the report and fails t unless every check passes and the binary is a
// plugin of kind want. It returns the report's text.
func RunExpectKind(t testing.TB, bin string, opts Options, want plugins.Kind) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(testContext(t), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, bin, opts)
	if err != nil {
		t.Fatalf("conformance.Run: %v", err)
	}
	var out bytes.Buffer
	_ = rep.Write(&out)
	t.Logf("conformance:\n%s", out.String())
	if !rep.Passed() || rep.Kind != want {
		t.Fatalf("conformance failed (kind %s, want %s):\n%s", rep.Kind, want, out.String())
	}
	return out.String()
}

// BuildMain compiles the main package of the calling test's directory into a temporary directory
// as name, and returns its path.
func BuildMain(t testing.TB, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.CommandContext(testContext(t), "go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// CheckBadFlag fails t unless the plugin binary, given an unknown flag, exits 2 with the error on
// stderr and nothing on stdout (stdout is go-plugin's handshake line).
func CheckBadFlag(t testing.TB, bin string) {
	t.Helper()
	cmd := exec.CommandContext(testContext(t), bin, "--bogus")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "unknown flag: --bogus") {
		t.Fatalf("exit %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
}

// testContext is t's context where t has one (testing.T and B do), else a background context.
func testContext(t testing.TB) context.Context {
	if d, ok := t.(interface{ Context() context.Context }); ok {
		return d.Context()
	}
	return context.Background()
}
