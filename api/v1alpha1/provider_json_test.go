package v1alpha1

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPluginConfig(t *testing.T) {
	web := MetricProvider{Web: &WebMetric{URL: "http://example.test/health"}}
	both := MetricProvider{Web: web.Web, Plugin: map[string]json.RawMessage{"nerve/web": json.RawMessage(`{"url":"http://plugin.test"}`)}}
	cases := []struct {
		name      string
		p         MetricProvider
		want, src string
		err       string
	}{
		{"built-in block", web, `"url":"http://example.test/health"`, "provider.web", ""},
		{"plugin block first", both, `{"url":"http://plugin.test"}`, `provider.plugin["nerve/web"]`, ""},
		{"neither", MetricProvider{Prometheus: &PrometheusMetric{Query: "up"}}, "", "",
			`metric "m" has neither provider.plugin["nerve/web"] nor provider.web`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw, src, err := c.p.PluginConfig("m", "nerve/web", "web")
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || src != c.src || !strings.Contains(string(raw), c.want) {
				t.Fatalf("got %s from %q (%v), want %s from %q", raw, src, err, c.want, c.src)
			}
		})
	}
}
