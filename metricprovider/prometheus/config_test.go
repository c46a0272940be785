package prometheus

import (
	"encoding/json"
	"testing"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// TestConfigAcceptsEveryBuiltInField: the core loop hands a built-in provider.prometheus block to
// the plugin as JSON marshalled from v1alpha1.PrometheusMetric; every field it can carry must
// decode (the decoder rejects unknown fields), and land where Argo puts it.
func TestConfigAcceptsEveryBuiltInField(t *testing.T) {
	timeout := int64(7)
	pm := v1alpha1.PrometheusMetric{
		Address: "https://prom.example:9090", Query: "up", Timeout: &timeout, Insecure: true,
		Headers:    []v1alpha1.WebMetricHeader{{Key: "X-Scope-OrgID", Value: "t"}},
		RangeQuery: &v1alpha1.PrometheusRangeQueryArgs{Start: "now() - duration('5m')", End: "now()", Step: "1m"},
		Authentication: v1alpha1.Authentication{
			OAuth2:    v1alpha1.OAuth2Config{TokenURL: "https://idp.example/token", ClientID: "c", ClientSecret: "s", Scopes: []string{"a"}},
			BasicAuth: v1alpha1.BasicAuthConfig{},
		},
	}
	raw, err := json.Marshal(pm)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []v1alpha1.Metric{
		{Name: "plugin", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{DefaultName: raw}}},
		{Name: "builtin", Provider: v1alpha1.MetricProvider{Prometheus: &pm}},
	} {
		cfg, err := ParseConfig(DefaultName, m)
		if err != nil {
			t.Fatalf("%s: ParseConfig(%s): %v", m.Name, raw, err)
		}
		if cfg.Address != pm.Address || cfg.Query != "up" || cfg.timeout().Seconds() != 7 || !cfg.Insecure ||
			len(cfg.Headers) != 1 || cfg.Headers[0].Value != "t" || cfg.RangeQuery == nil || cfg.RangeQuery.Step != "1m" ||
			cfg.Authentication.OAuth2.ClientSecret != "s" || cfg.Authentication.OAuth2.Scopes[0] != "a" {
			t.Fatalf("%s: decoded %+v from %s", m.Name, cfg, raw)
		}
	}
}

func TestPluginBlockWinsOverBuiltIn(t *testing.T) {
	m := v1alpha1.Metric{Name: "m", Provider: v1alpha1.MetricProvider{
		Prometheus: &v1alpha1.PrometheusMetric{Query: "builtin"},
		Plugin:     map[string]json.RawMessage{DefaultName: json.RawMessage(`{"query":"plugin"}`)},
	}}
	cfg, err := ParseConfig(DefaultName, m)
	if err != nil || cfg.Query != "plugin" {
		t.Fatalf("ParseConfig = %+v, %v", cfg, err)
	}
}

func TestTimeoutDefault(t *testing.T) {
	zero := int64(0)
	for _, c := range []Config{{}, {Timeout: &zero}} {
		if c.timeout() != DefaultTimeout {
			t.Fatalf("timeout(%v) = %s, want %s", c.Timeout, c.timeout(), DefaultTimeout)
		}
	}
}
