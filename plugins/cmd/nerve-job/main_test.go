package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance"
)

// TestPluginBinary runs the real binary through the conformance suite in wire mode over the real
// go-plugin wire, with no reachable cluster (KUBECONFIG names a missing file, no in-cluster
// service account): every call must cross the wire and answer with an application error or an
// Error measurement, never crash. Functional mode needs a control plane: e2e/providers.
func TestPluginBinary(t *testing.T) {
	bin := conformance.BuildMain(t, "nerve-job")
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing-kubeconfig"))
	cfg := json.RawMessage(`{"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}`)
	cases := []struct {
		name string
		opts conformance.Options
	}{
		{"empty config", conformance.Options{Name: "nerve/job"}},
		{"no cluster", conformance.Options{Name: "nerve/job", Config: cfg}},
		{"--name", conformance.Options{Name: "acme/job", Args: []string{"--name", "acme/job"}, Config: cfg}},
		{"detected kind", conformance.Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { conformance.RunExpectKind(t, bin, c.opts, plugins.KindMetricProvider) })
	}
	t.Run("bad flag", func(t *testing.T) { conformance.CheckBadFlag(t, bin) })
}
