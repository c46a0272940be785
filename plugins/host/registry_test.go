package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance/testbin"
)

const sumA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseConfigMap(t *testing.T) {
	data := map[string]string{
		ConfigKeyTrafficRouters: `
- name: argoproj-labs/gatewayAPI
  location: https://github.com/argoproj-labs/x/releases/download/v0.15.0/gatewayapi-plugin-linux-amd64
  sha256: ` + strings.ToUpper(sumA) + `
  args: ["-logformat", "json"]
  headersFrom:
  - secretRef:
      name: gh-token
`,
		ConfigKeyMetricProviders: `
- name: "nerve/prometheus"
  location: "file://./plugin-bin/nerve-prometheus"
`,
	}
	got, err := ParseConfigMap(data)
	if err != nil {
		t.Fatal(err)
	}
	want := Registry{
		TrafficRouters: []Entry{{Name: "argoproj-labs/gatewayAPI", Kind: plugins.KindTrafficRouter,
			Location: "https://github.com/argoproj-labs/x/releases/download/v0.15.0/gatewayapi-plugin-linux-amd64",
			SHA256:   sumA, Args: []string{"-logformat", "json"}, HeadersFrom: []string{"gh-token"}}},
		MetricProviders: []Entry{{Name: "nerve/prometheus", Kind: plugins.KindMetricProvider, Location: "file://./plugin-bin/nerve-prometheus"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-want +got)\n%s", d)
	}
	if empty, err := ParseConfigMap(nil); err != nil || len(empty.TrafficRouters)+len(empty.MetricProviders) != 0 {
		t.Fatalf("empty: %v %v", empty, err)
	}
}

func TestParseConfigMapErrors(t *testing.T) {
	data := map[string]string{ConfigKeyTrafficRouters: "- name: noslash\n  location: file://x"}
	_, err := ParseConfigMap(data)
	if err == nil || !strings.Contains(err.Error(), `data.trafficRouterPlugins[0].name: plugin name "noslash" must be <namespace>/<name>`) {
		t.Fatalf("got %v", err)
	}
	// Warnings do not make the ConfigMap invalid.
	reg, err := ParseConfigMap(map[string]string{ConfigKeyMetricProviders: "- {name: a/b, location: file://x}"})
	if err != nil || len(reg.MetricProviders) != 1 {
		t.Fatalf("no sha256 is a warning: %v %+v", err, reg)
	}
}

func TestCheckConfigMapFindings(t *testing.T) {
	const tr = "data.trafficRouterPlugins"
	ok := "  location: file://x\n  sha256: " + sumA + "\n"
	tests := []struct {
		name string
		doc  string
		want []Finding
	}{
		{"malformed YAML", "- name: [a/b\n", []Finding{{tr, SeverityError,
			"invalid plugin list (want a YAML list of {name, location, sha256, args, headersFrom}): error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'"}}},
		{"not a list", "name: a/b", []Finding{{tr, SeverityError,
			"invalid plugin list (want a YAML list of {name, location, sha256, args, headersFrom}): error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go value of type []json.RawMessage"}}},
		{"unknown field", "- name: a/b\n" + ok + "  bogus: 1\n", []Finding{{tr + "[0].bogus", SeverityError, `unknown field "bogus"`}}},
		{"wrong type", "- name: a/b\n" + ok + "  args: x\n", []Finding{{tr + "[0].args", SeverityError, "wrong type: string where []string is expected"}}},
		{"missing name", "- location: file://x\n  sha256: " + sumA, []Finding{{tr + "[0].name", SeverityError, "plugin name is required (<namespace>/<name>)"}}},
		{"bad name", "- name: a/b/c\n" + ok, []Finding{{tr + "[0].name", SeverityError,
			`plugin name "a/b/c" must be <namespace>/<name> (matching ` + NamePattern + `)`}}},
		{"name without namespace", "- name: noslash\n" + ok, []Finding{{tr + "[0].name", SeverityError,
			`plugin name "noslash" must be <namespace>/<name> (matching ` + NamePattern + `)`}}},
		{"duplicate", "- name: a/b\n" + ok + "- name: c/d\n" + ok + "- name: a/b\n" + ok,
			[]Finding{{tr + "[2].name", SeverityError, `duplicate plugin name "a/b" (also data.trafficRouterPlugins[0])`}}},
		{"http", "- name: a/b\n  location: http://example.com/p\n  sha256: " + sumA, []Finding{{tr + "[0].location", SeverityError,
			`location "http://example.com/p" must start with file:// or https:// (plain http:// is refused)`}}},
		{"ftp", "- name: a/b\n  location: ftp://x\n  sha256: " + sumA, []Finding{{tr + "[0].location", SeverityError,
			`location "ftp://x" must start with file:// or https://`}}},
		{"missing location", "- name: a/b\n  sha256: " + sumA, []Finding{{tr + "[0].location", SeverityError,
			"location is required (file://... or https://...)"}}},
		{"bad sha256", "- name: a/b\n  location: file://x\n  sha256: abc", []Finding{{tr + "[0].sha256", SeverityError, `sha256 "abc" is not 64 hex characters`}}},
		{"no sha256", "- name: a/b\n  location: file://x", []Finding{{tr + "[0].sha256", SeverityWarning,
			`plugin "a/b" has no sha256: it only runs where unverified plugins are allowed ` + "(`kubectl nerve plugins config` writes the sums)"}}},
		{"uppercase sha256", "- name: a/b\n  location: file://x\n  sha256: " + strings.ToUpper(sumA), nil},
		{"headersFrom without name", "- name: a/b\n" + ok + "  headersFrom:\n  - secretRef: {name: s}\n  - secretRef: {}\n",
			[]Finding{{tr + "[0].headersFrom[1].secretRef.name", SeverityError, "headersFrom entry without secretRef.name"}}},
		{"every problem of an item", "- name: x\n  location: http://x\n  sha256: abc", []Finding{
			{tr + "[0].name", SeverityError, `plugin name "x" must be <namespace>/<name> (matching ` + NamePattern + `)`},
			{tr + "[0].location", SeverityError, `location "http://x" must start with file:// or https:// (plain http:// is refused)`},
			{tr + "[0].sha256", SeverityError, `sha256 "abc" is not 64 hex characters`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg, got := CheckConfigMap(map[string]string{ConfigKeyTrafficRouters: tc.doc})
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got)\n%s", d)
			}
			_, err := ParseConfigMap(map[string]string{ConfigKeyTrafficRouters: tc.doc})
			if wantErr := FindingsError(tc.want) != nil; (err != nil) != wantErr {
				t.Errorf("ParseConfigMap error %v, want error %v", err, wantErr)
			}
			if FindingsError(tc.want) == nil && (len(reg.TrafficRouters) != 1 || reg.TrafficRouters[0].SHA256 != strings.ToLower(reg.TrafficRouters[0].SHA256)) {
				t.Errorf("valid entry not kept with a lowercase sum: %+v", reg)
			}
		})
	}
}

func TestCheckConfigMapKeepsValidEntries(t *testing.T) {
	reg, fs := CheckConfigMap(map[string]string{
		ConfigKeyTrafficRouters:  "- {name: a/ok, location: file://x, sha256: " + sumA + "}\n- {name: bad, location: file://x}\n- {name: a/ok, location: file://y}",
		ConfigKeyMetricProviders: "- {name: a/ok, location: 'https://h/p', sha256: " + strings.ToUpper(sumA) + "}",
	})
	want := Registry{
		TrafficRouters:  []Entry{{Name: "a/ok", Kind: plugins.KindTrafficRouter, Location: "file://x", SHA256: sumA}},
		MetricProviders: []Entry{{Name: "a/ok", Kind: plugins.KindMetricProvider, Location: "https://h/p", SHA256: sumA}},
	}
	if d := cmp.Diff(want, reg); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	var paths []string
	for _, f := range fs {
		paths = append(paths, string(f.Severity)+" "+f.Path)
	}
	wantPaths := []string{"error data.trafficRouterPlugins[1].name", "warning data.trafficRouterPlugins[1].sha256",
		"warning data.trafficRouterPlugins[2].sha256", "error data.trafficRouterPlugins[2].name"}
	if d := cmp.Diff(wantPaths, paths); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

func TestConfigMapDataRoundTrip(t *testing.T) {
	reg := Registry{
		TrafficRouters: []Entry{{Name: "nerve/gatewayAPI", Kind: plugins.KindTrafficRouter, Location: "file:///p/nerve-gatewayapi",
			SHA256: strings.ToUpper(sumA), Args: []string{"-v"}, HeadersFrom: []string{"tok"}}},
		MetricProviders: []Entry{{Name: "nerve/prometheus", Kind: plugins.KindMetricProvider, Location: "file:///p/nerve-prometheus",
			SHA256: strings.Repeat("0", 64)}},
	}
	data, err := reg.ConfigMapData()
	if err != nil {
		t.Fatal(err)
	}
	wantProv := "- location: file:///p/nerve-prometheus\n  name: nerve/prometheus\n  sha256: \"" + strings.Repeat("0", 64) + "\"\n"
	if data[ConfigKeyMetricProviders] != wantProv {
		t.Errorf("metric providers:\n%s\nwant:\n%s", data[ConfigKeyMetricProviders], wantProv)
	}
	back, err := ParseConfigMap(data)
	if err != nil {
		t.Fatal(err)
	}
	reg.TrafficRouters[0].SHA256 = sumA
	if d := cmp.Diff(reg, back); d != "" {
		t.Errorf("round trip (-want +got)\n%s", d)
	}
	if _, err := (Registry{TrafficRouters: []Entry{{Name: "bad", Kind: plugins.KindTrafficRouter, Location: "file://x"}}}).ConfigMapData(); err == nil {
		t.Error("an invalid entry must not be written")
	}
}

func TestCheckSums(t *testing.T) {
	tests := []struct {
		name string
		data string
		sums map[string]string
		want []Finding
	}{
		{"both forms, any case", sumA + "  a\n" + strings.ToUpper(sumA) + " *b\n\n# comment\n", map[string]string{"a": sumA, "b": sumA}, nil},
		{"bad line", sumA + "  a\nxyz  b\n", map[string]string{"a": sumA}, []Finding{{"S:2", SeverityError, `not a sha256sum line: "xyz  b"`}}},
		{"no file", sumA + "\n", map[string]string{}, []Finding{{"S:1", SeverityError, `not a sha256sum line: "` + sumA + `"`}}},
		{"path in name", sumA + "  d/a\n", map[string]string{}, []Finding{{"S:1", SeverityError, `not a sha256sum line: "` + sumA + `  d/a"`}}},
		{"listed twice", sumA + "  a\n" + sumA + "  a\n", map[string]string{"a": sumA}, []Finding{{"S:2", SeverityError, "a is listed twice"}}},
		{"empty", "\n# nothing\n", map[string]string{}, []Finding{{"S", SeverityError, "lists no plugin binaries"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sums, fs := CheckSums("S", []byte(tc.data))
			if d := cmp.Diff(tc.want, fs); d != "" {
				t.Errorf("findings (-want +got)\n%s", d)
			}
			if d := cmp.Diff(tc.sums, sums); d != "" {
				t.Errorf("sums (-want +got)\n%s", d)
			}
		})
	}
}

func TestReadSums(t *testing.T) {
	path := filepath.Join(t.TempDir(), SumsFile)
	if err := os.WriteFile(path, []byte(sumA+"  a\nxyz  a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSums(path); err == nil || err.Error() != path+`:2: not a sha256sum line: "xyz  a"` {
		t.Fatalf("got %v", err)
	}
}

func TestBinaryName(t *testing.T) {
	tests := map[string]string{
		"nerve-gatewayapi": "nerve/gatewayAPI",
		"nerve-mllp":       "nerve/mllp",
		"nerve-prometheus": "nerve/prometheus",
		"nerve-x":          "nerve/x",
		"provider":         "nerve/provider",
	}
	for file, want := range tests {
		if got := BinaryName(file); got != want {
			t.Errorf("BinaryName(%q) = %q, want %q", file, got, want)
		}
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	var sums strings.Builder
	for file, bin := range map[string]string{"nerve-gatewayapi": testbin.GoodRouter, "provider": testbin.GoodProvider} {
		data, err := os.ReadFile(bins[bin])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o700); err != nil {
			t.Fatal(err)
		}
		sum, _ := FileSHA256(bins[bin])
		sums.WriteString(sum + "  " + file + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, SumsFile), []byte(sums.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	reg, err := LoadDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.TrafficRouters) != 1 || reg.TrafficRouters[0].Name != "nerve/gatewayAPI" ||
		len(reg.MetricProviders) != 1 || reg.MetricProviders[0].Name != "nerve/provider" {
		t.Fatalf("registry %+v", reg)
	}
	h := newHost(t, Options{})
	h.SetRegistry(reg)
	if _, err := h.MetricProvider(context.Background(), "nerve/provider"); err != nil {
		t.Fatal(err)
	}
	// A tampered binary is refused.
	if err := os.Remove(filepath.Join(dir, "provider")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "provider"), []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("tampered dir: %v", err)
	}
}

func TestFindingsError(t *testing.T) {
	fs := []Finding{{"a", SeverityError, "one"}, {"b", SeverityWarning, "advice"}, {"", SeverityError, "two"}}
	if err := FindingsError(fs); err == nil || err.Error() != "a: one; two" {
		t.Fatalf("got %v", err)
	}
	if err := FindingsError(fs[1:2]); err != nil {
		t.Fatalf("warnings only: %v", err)
	}
}
