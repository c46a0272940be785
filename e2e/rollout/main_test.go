//go:build e2e

// Package rollout holds the e2e tests of nerve's core rollout loop: a real nerve-controller
// process per test, real plugin processes (a recording traffic router and a test metric
// provider whose values the test controls), on the local control plane.
package rollout

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// pluginDir holds the test plugins built once by TestMain.
var pluginDir string

func TestMain(m *testing.M) {
	dir, err := buildTestPlugins()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e/rollout:", err)
		os.Exit(1)
	}
	pluginDir = dir
	framework.Main(m)
}

// buildTestPlugins compiles testplugins/* into a temporary directory.
func buildTestPlugins() (string, error) {
	dir, err := os.MkdirTemp("", "nerve-rollout-e2e-plugins-")
	if err != nil {
		return "", err
	}
	root, err := framework.RepoRoot()
	if err != nil {
		return "", err
	}
	for _, name := range []string{"recordrouter", "testmetric"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), "./e2e/rollout/testplugins/"+name)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("build %s: %v\n%s", name, err, out)
		}
	}
	return dir, nil
}
