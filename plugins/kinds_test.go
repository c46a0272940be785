package plugins_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nerve-rollouts/nerve/plugins"
)

// TestKindsTable pins every wire string of the kind table: a drift here breaks Argo.
func TestKindsTable(t *testing.T) {
	want := []plugins.KindSpec{
		{Kind: "trafficrouter", Cookie: "trafficrouter", DispenseKey: "RpcTrafficRouterPlugin", ConfigKey: "trafficRouterPlugins", Human: "traffic router"},
		{Kind: "metricprovider", Cookie: "metricprovider", DispenseKey: "RpcMetricProviderPlugin", ConfigKey: "metricProviderPlugins", Human: "metric provider"},
	}
	if d := cmp.Diff(want, plugins.Kinds()); d != "" {
		t.Fatalf("kind table (-want +got)\n%s", d)
	}
	for _, s := range want {
		hs := plugins.Handshake(s.Kind)
		if hs.ProtocolVersion != 1 || hs.MagicCookieKey != "ARGO_ROLLOUTS_RPC_PLUGIN" || hs.MagicCookieValue != s.Cookie {
			t.Errorf("%s: handshake %+v", s.Kind, hs)
		}
		if plugins.DispenseKey(s.Kind) != s.DispenseKey || plugins.ConfigKey(s.Kind) != s.ConfigKey || !s.Kind.Known() {
			t.Errorf("%s: lookups disagree with the table", s.Kind)
		}
		if _, ok := plugins.PluginSet(s.Kind, 0)[s.DispenseKey]; !ok {
			t.Errorf("%s: PluginSet lacks %s", s.Kind, s.DispenseKey)
		}
	}
	if k := plugins.Kind("step"); k.Known() || plugins.Handshake(k).MagicCookieValue != "" || len(plugins.PluginSet(k, 0)) != 0 {
		t.Error("an unknown kind must get no cookie and no plugin set")
	}
}
