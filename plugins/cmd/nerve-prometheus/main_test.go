package main

import (
	"encoding/json"
	"net"
	"testing"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance"
)

func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

// TestPluginBinary runs the real binary through the conformance suite in wire mode: every
// method crosses the real go-plugin wire, on a fresh process and after InitPlugin, with an empty
// config (application errors only), an unreachable Prometheus, and a non-default --name.
func TestPluginBinary(t *testing.T) {
	bin := conformance.BuildMain(t, "nerve-prometheus")
	t.Run("conformance wire mode", func(t *testing.T) { conformanceWireMode(t, bin) })
	t.Run("bad flag", func(t *testing.T) { conformance.CheckBadFlag(t, bin) })
}

func conformanceWireMode(t *testing.T, bin string) {
	cases := []struct {
		name string
		opts conformance.Options
	}{
		{"empty config", conformance.Options{Name: "nerve/prometheus"}},
		{"unreachable prometheus", conformance.Options{Name: "nerve/prometheus",
			Config:           json.RawMessage(`{"address":"` + closedAddr(t) + `","query":"up","timeout":2}`),
			SuccessCondition: "result[0] == 1"}},
		{"--name", conformance.Options{Name: "acme/prom", Args: []string{"--name", "acme/prom"},
			Config: json.RawMessage(`{"address":"` + closedAddr(t) + `","query":"up"}`)}},
		{"detected kind", conformance.Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { conformance.RunExpectKind(t, bin, c.opts, plugins.KindMetricProvider) })
	}
}
