//go:build e2e

// Package krew is the e2e test of kubectl nerve's krew packaging: `make dist` archives, the
// rendered manifest checked by validate-krew-manifest, a krew install into a temporary
// KREW_ROOT and `kubectl nerve version` from the installed binary. It needs no cluster.
package krew

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// krewVersion is the krew release the tools are installed from.
const krewVersion = "v0.4.3"

// krewTool installs sigs.k8s.io/krew/cmd/<name>@v0.4.3 into $NERVE_CACHE/tools (outside the
// repo) unless it is there, and returns its path.
func krewTool(t *testing.T, name string) string {
	t.Helper()
	cache := os.Getenv("NERVE_CACHE")
	if cache == "" {
		home, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(home, "nerve")
	}
	dir := filepath.Join(cache, "tools", "krew-"+krewVersion)
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	cmd := exec.CommandContext(t.Context(), "go", "install", "sigs.k8s.io/krew/cmd/"+name+"@"+krewVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s@%s: %v\n%s", name, krewVersion, err, out)
	}
	return path
}

func runCmd(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestKrewInstall builds the release archives with hack/dist.sh (the `make dist` script),
// validates the rendered manifest with validate-krew-manifest (installing every platform from a
// 127.0.0.1 server), checks the committed krew/nerve.yaml, installs the linux archive with krew
// into a temporary KREW_ROOT and runs `kubectl nerve version` from the krew-installed binary.
func TestKrewInstall(t *testing.T) {
	validate := krewTool(t, "validate-krew-manifest")
	krew := krewTool(t, "krew")
	dist := t.TempDir()
	srv := httptest.NewServer(http.FileServer(http.Dir(dist)))
	defer srv.Close()
	manifest := filepath.Join(dist, "nerve.yaml")
	runCmd(t, []string{"DIST_DIR=" + dist, "KREW_OUT=" + manifest, "URI_BASE=" + srv.URL}, "hack/dist.sh", "v0.1.0")

	// validate-krew-manifest installs each platform through `kubectl krew`, so krew must be on
	// PATH as a kubectl plugin, with its own throwaway KREW_ROOT.
	krewPath := t.TempDir()
	if err := os.Symlink(krew, filepath.Join(krewPath, "kubectl-krew")); err != nil {
		t.Fatal(err)
	}
	validateEnv := []string{"PATH=" + krewPath + string(os.PathListSeparator) + os.Getenv("PATH"),
		"KREW_ROOT=" + t.TempDir(), "KREW_NO_UPGRADE_CHECK=1"}
	out := runCmd(t, validateEnv, validate, "-manifest", manifest)
	t.Logf("validate-krew-manifest (with install):\n%s", out)
	root, _ := framework.RepoRoot()
	runCmd(t, nil, validate, "-manifest", filepath.Join(root, "krew", "nerve.yaml"), "-skip-install")
	if b, err := os.ReadFile(filepath.Join(root, "krew", "nerve.yaml")); err != nil || !strings.Contains(string(b), `sha256: "`) {
		t.Fatalf("committed krew/nerve.yaml must quote sha256: %v", err)
	}

	t.Run("reproducible", func(t *testing.T) {
		again := t.TempDir()
		plat := runtime.GOOS + "/" + runtime.GOARCH
		runCmd(t, []string{"DIST_DIR=" + again, "KREW_OUT=" + filepath.Join(again, "nerve.yaml"), "PLATFORMS=" + plat}, "hack/dist.sh", "v0.1.0")
		name := "kubectl-nerve_" + runtime.GOOS + "_" + runtime.GOARCH + ".tar.gz.sha256"
		a, _ := os.ReadFile(filepath.Join(dist, name))
		b, _ := os.ReadFile(filepath.Join(again, name))
		if len(a) == 0 || string(a) != string(b) {
			t.Fatalf("two builds differ: %q vs %q", a, b)
		}
	})

	krewRoot := t.TempDir()
	archive := filepath.Join(dist, "kubectl-nerve_"+runtime.GOOS+"_"+runtime.GOARCH+".tar.gz")
	env := []string{"KREW_ROOT=" + krewRoot, "KREW_NO_UPGRADE_CHECK=1"}
	out = runCmd(t, env, krew, "install", "--manifest="+manifest, "--archive="+archive)
	if !strings.Contains(out, "kubectl_complete-nerve") {
		t.Errorf("krew did not show the caveats:\n%s", out)
	}
	for _, f := range []string{"bin/kubectl-nerve", "store/nerve/v0.1.0/LICENSE", "receipts/nerve.yaml"} {
		if _, err := os.Stat(filepath.Join(krewRoot, f)); err != nil {
			t.Fatalf("krew install: %v", err)
		}
	}
	path := filepath.Join(krewRoot, "bin") + string(os.PathListSeparator) + os.Getenv("PATH")
	out = runCmd(t, []string{"PATH=" + path}, "kubectl", "nerve", "version")
	if !strings.Contains(out, "kubectl-nerve:") || !strings.Contains(out, runtime.GOOS+"/"+runtime.GOARCH) {
		t.Fatalf("kubectl nerve version from the krew install:\n%s", out)
	}
	t.Logf("krew-installed kubectl nerve version:\n%s", out)
}
