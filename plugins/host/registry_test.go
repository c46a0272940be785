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
	tests := map[string]string{
		"- name: noslash\n  location: file://x":                                `plugin name "noslash" must be <namespace>/<name>`,
		"- name: a/b/c\n  location: file://x":                                  `plugin name "a/b/c"`,
		"- name: a/b\n  location: ftp://x":                                     `location "ftp://x" must start with file:// or https://`,
		"- name: a/b\n  location: file://x\n  sha256: abc":                     `sha256 "abc" is not 64 hex characters`,
		"- name: a/b\n  location: file://x\n- name: a/b\n  location: file://y": `duplicate plugin name "a/b"`,
		"- name: a/b\n  location: file://x\n  bogus: 1":                        `unknown field "bogus"`,
		"name: a/b": "invalid plugin list",
		"- name: a/b\n  location: file://x\n  headersFrom:\n  - secretRef: {}": "headersFrom entry without secretRef.name",
	}
	for doc, want := range tests {
		_, err := ParseConfigMap(map[string]string{ConfigKeyTrafficRouters: doc})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), ConfigKeyTrafficRouters) {
			t.Errorf("%q: got %v, want %q", doc, err, want)
		}
	}
}

func TestReadSums(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SumsFile)
	if err := os.WriteFile(path, []byte(sumA+"  a\n"+strings.ToUpper(sumA)+" *b\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSums(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"a": sumA, "b": sumA}, got); d != "" {
		t.Fatal(d)
	}
	if err := os.WriteFile(path, []byte("xyz  a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSums(path); err == nil || !strings.Contains(err.Error(), "not a sha256sum line") {
		t.Fatalf("got %v", err)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	var sums strings.Builder
	for file, bin := range map[string]string{"nerve-router": testbin.GoodRouter, "provider": testbin.GoodProvider} {
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
	reg, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.TrafficRouters) != 1 || reg.TrafficRouters[0].Name != "nerve/router" ||
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
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("tampered dir: %v", err)
	}
}
