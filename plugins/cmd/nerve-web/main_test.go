package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance"
)

// TestPluginBinary runs the real binary through the conformance suite over the real go-plugin
// wire: wire mode with an empty config (application errors only) and an unreachable endpoint,
// functional mode against an httptest endpoint, a non-default --name, and a bad flag.
func TestPluginBinary(t *testing.T) {
	bin := conformance.BuildMain(t, "nerve-web")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"status":{"healthy":true,"errorRate":0.001}}`)
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	good := json.RawMessage(`{"url":"` + srv.URL + `","jsonPath":"{$.status.errorRate}","timeoutSeconds":5}`)
	cases := []struct {
		name string
		opts conformance.Options
	}{
		{"empty config", conformance.Options{Name: "nerve/web"}},
		{"unreachable endpoint", conformance.Options{Name: "nerve/web", Config: json.RawMessage(`{"url":"` + closedURL + `"}`)}},
		{"functional", conformance.Options{Name: "nerve/web", Config: good, Functional: true,
			SuccessCondition: "result < 0.01", FailureCondition: "result >= 0.01"}},
		{"--name", conformance.Options{Name: "acme/web", Args: []string{"--name", "acme/web"}, Config: good, Functional: true}},
		{"detected kind", conformance.Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := conformance.RunExpectKind(t, bin, c.opts, plugins.KindMetricProvider)
			if c.opts.Functional && !strings.Contains(out, `phase=Successful value="0.001"`) {
				t.Fatalf("functional Run did not measure the endpoint's value:\n%s", out)
			}
		})
	}
	t.Run("bad flag", func(t *testing.T) { conformance.CheckBadFlag(t, bin) })
}
