//go:build e2e

package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// result is one command run.
type result = framework.Result

// pluginPath returns a PATH whose first entry holds kubectl-nerve (a symlink to the built
// binary, so no other nerve binary shadows anything) plus dir extras.
func pluginPath(t testing.TB, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(framework.Binary(t, "kubectl-nerve"), filepath.Join(dir, "kubectl-nerve")); err != nil {
		t.Fatal(err)
	}
	return strings.Join(append(append([]string{dir}, extra...), os.Getenv("PATH")), string(os.PathListSeparator))
}

// kubectl runs kubectl with args (e.g. "nerve", "get", ...) and the given PATH.
func kubectl(ctx context.Context, path string, args ...string) result {
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Env = append(os.Environ(), "PATH="+path)
	return framework.RunCommand(cmd)
}

// cli is `kubectl nerve` in one namespace.
type cli struct {
	t    *testing.T
	path string
	ns   string
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), 3*time.Minute)
	defer cancel()
	full := append([]string{"nerve"}, args...)
	full = append(full, "-n", c.ns)
	r := kubectl(ctx, c.path, full...)
	c.t.Logf("$ kubectl %s → rc=%d", strings.Join(full, " "), r.Code)
	return r
}

// must runs and fails the test unless the exit code is want.
func (c *cli) must(want int, args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.Code != want {
		c.t.Fatalf("kubectl nerve %s: want rc=%d, %s", strings.Join(args, " "), want, r)
	}
	return r
}

func contains(t *testing.T, r result, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(r.Out, w) {
			t.Fatalf("output lacks %q:\n%s", w, r.Out)
		}
	}
}

// testMetricPlugins builds the rollout e2e's test metric plugin into a fresh directory.
func testMetricPlugins(t *testing.T) string {
	t.Helper()
	bin := framework.BuildBinary(t, "./e2e/rollout/testplugins/testmetric")
	dir := t.TempDir()
	if err := os.Rename(bin, filepath.Join(dir, "testmetric")); err != nil {
		t.Fatal(err)
	}
	return dir
}
