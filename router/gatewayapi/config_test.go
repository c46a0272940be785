package gatewayapi

import (
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseConfig(t *testing.T) {
	ro := rollout(`{"httpRoute":"a","httpRoutes":[{"name":"a"},{"name":"b","useHeaderRoutes":true},{"name":"c"}],
		"grpcRoutes":[{"name":"g"}],"tcpRoute":"t","tlsRoutes":[{"name":"s"}]}`)
	cfg, warnings, err := parseConfig(ro, pluginKey)
	if err != nil || len(warnings) != 0 {
		t.Fatalf("parse: %v %v", err, warnings)
	}
	want := []target{
		{KindHTTPRoute, testNS, "a", true}, {KindHTTPRoute, testNS, "b", true}, {KindHTTPRoute, testNS, "c", false},
		{KindGRPCRoute, testNS, "g", false}, {KindTCPRoute, testNS, "t", true}, {KindTLSRoute, testNS, "s", false},
	}
	if d := cmp.Diff(want, cfg.namedTargets(), cmp.AllowUnexported(target{})); d != "" {
		t.Fatalf("targets (-want +got):\n%s", d)
	}
	if k, v := cfg.inProgressLabel(); k != DefaultInProgressLabelKey || v != DefaultInProgressLabelValue {
		t.Fatalf("label %s=%s", k, v)
	}
}

func TestParseConfigNamespaceAndWarnings(t *testing.T) {
	cfg, warnings, err := parseConfig(rollout(`{"httpRoute":"a","namespace":"gw","httpRoutez":[{"name":"typo"}]}`), pluginKey)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Namespace != "gw" || len(cfg.namedTargets()) != 1 || cfg.namedTargets()[0].Namespace != "gw" {
		t.Fatalf("cfg %+v", cfg)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "httpRoutez") {
		t.Fatalf("warnings %v", warnings)
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := map[string]string{
		`{"httpRoutes":[{"useHeaderRoutes":true}]}`: "httpRoutes[0].name is required",
		`{"httpRoute":5}`: "cannot unmarshal",
		`null`:            "has no config under",
	}
	for raw, want := range cases {
		if _, _, err := parseConfig(rollout(raw), pluginKey); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", raw, err, want)
		}
	}
	ro := rollout(httpCfg)
	ro.Spec.Strategy.Canary.CanaryService = ""
	if _, _, err := parseConfig(ro, pluginKey); err == nil || !strings.Contains(err.Error(), "canaryService") {
		t.Errorf("no canary service: %v", err)
	}
	ro.Spec.Strategy.Canary = nil
	if _, _, err := parseConfig(ro, pluginKey); err == nil {
		t.Error("no canary strategy accepted")
	}
}

func TestParseArgs(t *testing.T) {
	opts, err := ParseArgs([]string{"-kubeClientQPS=40", "-kubeClientBurst", "80", "--name=argoproj-labs/gatewayAPI", "-logformat=text"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Name != LabsPluginName || opts.QPS != 40 || opts.Burst != 80 {
		t.Fatalf("opts %+v", opts)
	}
	opts, err = ParseArgs(nil, io.Discard)
	if err != nil || opts.Name != DefaultPluginName || opts.QPS != 5 || opts.Burst != 10 {
		t.Fatalf("defaults %+v %v", opts, err)
	}
	for _, bad := range [][]string{{"--logformat=xml"}, {"--name="}, {"extra"}, {"--unknown"}} {
		if _, err := ParseArgs(bad, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestKindNames(t *testing.T) {
	for k, want := range map[Kind][2]string{KindHTTPRoute: {"httproutes", "httpRoute"}, KindGRPCRoute: {"grpcroutes", "grpcRoute"}, KindTCPRoute: {"tcproutes", "tcpRoute"}, KindTLSRoute: {"tlsroutes", "tlsRoute"}} {
		if k.Resource() != want[0] || k.configField() != want[1] {
			t.Errorf("%s: %s %s", k, k.Resource(), k.configField())
		}
	}
}
