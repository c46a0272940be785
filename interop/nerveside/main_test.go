// Package nerveside holds the interop tests that run nerve's side in this process: nerve's host
// driving plugins served with Argo v1.10.0's own server types, and Argo's real sample plugin
// binaries under nerve's host and conformance suite. It must not link Argo's rpc packages
// (they register the same gob names as nerve's plugins package).
package nerveside

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/nerve-rollouts/nerve/interop/internal/bins"
)

// built maps interop package → binary, built once by TestMain.
var built map[string]string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := bins.Dir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pkgs := []string{bins.ArgoRouter, bins.ArgoProvider, bins.SampleMetrics, bins.SampleRouter}
	if nb := os.Getenv("NERVE_BIN"); nb == "" || !exists(filepath.Join(nb, "nerve-conformance")) {
		pkgs = append(pkgs, bins.NerveConformer)
	}
	if built, err = bins.Build(dir, pkgs...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, ok := built[bins.NerveConformer]; !ok {
		built[bins.NerveConformer] = filepath.Join(os.Getenv("NERVE_BIN"), "nerve-conformance")
	}
	return m.Run()
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
