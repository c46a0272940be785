//go:build e2e

package framework

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/host"
)

// StartTrafficRouter registers a traffic-router plugin binary of NERVE_BIN/plugins
// (sha256-pinned, with args) under name with a fresh nerve plugin host and returns the host's
// router handle: the host starts the process over the real go-plugin wire and runs InitPlugin.
func StartTrafficRouter(t testing.TB, name, binary string, args ...string) plugins.TrafficRouter {
	t.Helper()
	bin := Binary(t, binary)
	sum, err := host.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	h := host.New(host.Options{Logger: FileLogger(t, "host.log"), CallTimeout: 30 * time.Second})
	t.Cleanup(h.Close)
	h.SetRegistry(host.Registry{TrafficRouters: []host.Entry{{
		Name: name, Kind: plugins.KindTrafficRouter, Location: "file://" + bin, SHA256: sum, Args: args,
	}}})
	r, err := h.TrafficRouter(t.Context(), name)
	if err != nil {
		t.Fatalf("start %s through the plugin host: %v", binary, err)
	}
	return r
}

// FileLogger logs to a file in the test's temp dir (a plugin may still log after the test
// ended) and prints it when the test failed.
func FileLogger(t testing.TB, name string) hclog.Logger {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(path); err == nil {
				t.Logf("--- %s ---\n%s", name, b)
			}
		}
	})
	return hclog.New(&hclog.LoggerOptions{Name: "e2e", Output: f, Level: hclog.Debug})
}
