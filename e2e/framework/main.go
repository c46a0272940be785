//go:build e2e

package framework

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Environment variables read by the framework (written by hack/cluster/up.sh
// into .cluster/env, or set by `make e2e`).
const (
	EnvKubeconfig    = "KUBECONFIG"
	EnvPrometheusURL = "PROMETHEUS_URL"
	EnvTargetsDir    = "PROMETHEUS_TARGETS_DIR"
	EnvClusterBin    = "CLUSTER_BIN"
	EnvNerveBin      = "NERVE_BIN"
)

const noClusterMsg = "no local control plane: run `make cluster-up`"

// Main is the TestMain of every e2e package: it loads the cluster environment,
// checks that the API server answers and then runs the tests. It exits 1 with
// a clear message when there is no cluster.
func Main(m *testing.M) {
	if err := setup(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %s: %v\n", noClusterMsg, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func setup() error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	if err := loadEnvFile(filepath.Join(root, ".cluster", "env")); err != nil {
		if os.Getenv(EnvKubeconfig) == "" {
			return err
		}
	}
	if os.Getenv(EnvNerveBin) == "" {
		if err := os.Setenv(EnvNerveBin, filepath.Join(root, "bin")); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return ping(ctx)
}

// RepoRoot returns the nearest directory at or above the working directory
// that holds a go.mod (the e2e packages live in the product module).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}

// loadEnvFile sets KEY=VALUE lines from path into the environment unless the
// variable is already set.
func loadEnvFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key = strings.TrimSpace(strings.TrimPrefix(key, "export "))
		val = strings.Trim(strings.TrimSpace(val), `"'`)
		if _, set := os.LookupEnv(key); set {
			continue
		}
		if err := os.Setenv(key, val); err != nil {
			return err
		}
	}
	return sc.Err()
}

func ping(ctx context.Context) error {
	cfg, err := restConfig()
	if err != nil {
		return err
	}
	cs, err := clientsetFor(cfg)
	if err != nil {
		return err
	}
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("API server %s not ready: %w", cfg.Host, err)
	}
	if strings.TrimSpace(string(body)) != "ok" {
		return fmt.Errorf("API server %s /readyz: %s", cfg.Host, body)
	}
	return nil
}
