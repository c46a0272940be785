// Package bins builds the binaries the interop tests run: packages of the interop module
// (Argo-served echo plugins, Argo's sample plugins as tool dependencies) with one `go build`.
package bins

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Packages of the interop module the tests build.
const (
	ArgoRouter     = "./argoplugins/router"
	ArgoProvider   = "./argoplugins/provider"
	SampleMetrics  = "github.com/argoproj/argo-rollouts/test/cmd/metrics-plugin-sample"
	SampleRouter   = "github.com/argoproj/argo-rollouts/test/cmd/trafficrouter-plugin-sample"
	NerveConformer = "github.com/nerve-rollouts/nerve/cmd/nerve-conformance"
)

// root returns the interop module's directory.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Dir returns the directory binaries are built into: $NERVE_CACHE/interop-bin when set (kept
// between runs; go build only relinks what changed), else a fresh temp dir.
func Dir() (string, error) {
	if c := os.Getenv("NERVE_CACHE"); c != "" {
		d := filepath.Join(c, "interop-bin")
		return d, os.MkdirAll(d, 0o755)
	}
	return os.MkdirTemp("", "nerve-interop-bin")
}

// Build builds the packages into dir and returns package → binary path.
func Build(dir string, pkgs ...string) (map[string]string, error) {
	args := append([]string{"build", "-o", dir + string(os.PathSeparator)}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root()
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %v: %w\n%s", pkgs, err, out)
	}
	paths := map[string]string{}
	for _, p := range pkgs {
		paths[p] = filepath.Join(dir, filepath.Base(p))
	}
	return paths, nil
}
