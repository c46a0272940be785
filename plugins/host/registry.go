// Package host runs plugin binaries of both kinds (traffic routers and metric providers) for a
// controller or a CLI: it reads plugin entries in Argo's argo-rollouts-config ConfigMap format or
// from a plugin directory, verifies each binary's sha256 before every exec, starts plugins lazily,
// pings them on reuse, respawns them (and re-runs InitPlugin) after a crash, re-levels their
// stderr through hclog and kills them on Close. Every failure names the plugin.
package host

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/nerve-rollouts/nerve/plugins"
)

// ConfigMap data keys of argo-rollouts-config.
const (
	ConfigKeyTrafficRouters  = "trafficRouterPlugins"
	ConfigKeyMetricProviders = "metricProviderPlugins"
	// SumsFile is the checksum file of a plugin directory (sha256sum format).
	SumsFile = "SHA256SUMS"
)

// NamePattern is Argo's plugin name rule: <namespace>/<name>.
const NamePattern = `^([a-zA-Z0-9\-]+)\/{1}([a-zA-Z0-9_\-.]+)$`

// sha256Pattern is a hex sha256 sum.
const sha256Pattern = `^[0-9a-fA-F]{64}$`

// matches reports whether s matches the (constant, valid) pattern.
func matches(pattern, s string) bool {
	ok, err := regexp.MatchString(pattern, s)
	return ok && err == nil
}

// Entry is one plugin: its name (<namespace>/<name>), kind, where its binary lives, the binary's
// expected sha256 (lowercase hex; "" = unverified) and its command-line arguments.
type Entry struct {
	Name     string
	Kind     plugins.Kind
	Location string
	SHA256   string
	Args     []string
	// HeadersFrom names Secrets whose data become HTTP headers of an https download
	// (resolved through Options.DownloadHeaders).
	HeadersFrom []string
}

// Registry is the set of plugins a host may run.
type Registry struct {
	TrafficRouters  []Entry
	MetricProviders []Entry
}

// Entries returns the entries of kind.
func (r Registry) Entries(kind plugins.Kind) []Entry {
	if kind == plugins.KindMetricProvider {
		return r.MetricProviders
	}
	return r.TrafficRouters
}

// pluginItem is one list element of the ConfigMap (Argo's PluginItem).
type pluginItem struct {
	Name        string   `json:"name"`
	Location    string   `json:"location"`
	SHA256      string   `json:"sha256,omitempty"`
	Args        []string `json:"args,omitempty"`
	HeadersFrom []struct {
		SecretRef struct {
			Name string `json:"name"`
		} `json:"secretRef"`
	} `json:"headersFrom,omitempty"`
}

// ParseConfigMap reads the trafficRouterPlugins and metricProviderPlugins keys of an
// argo-rollouts-config ConfigMap's data. Missing keys mean no plugins of that kind.
func ParseConfigMap(data map[string]string) (Registry, error) {
	var reg Registry
	var err error
	if reg.TrafficRouters, err = parseList(data[ConfigKeyTrafficRouters], plugins.KindTrafficRouter); err != nil {
		return Registry{}, fmt.Errorf("%s: %w", ConfigKeyTrafficRouters, err)
	}
	if reg.MetricProviders, err = parseList(data[ConfigKeyMetricProviders], plugins.KindMetricProvider); err != nil {
		return Registry{}, fmt.Errorf("%s: %w", ConfigKeyMetricProviders, err)
	}
	return reg, nil
}

// parseList parses and validates one YAML list of plugin items.
func parseList(doc string, kind plugins.Kind) ([]Entry, error) {
	if strings.TrimSpace(doc) == "" {
		return nil, nil
	}
	var items []pluginItem
	if err := yaml.UnmarshalStrict([]byte(doc), &items); err != nil {
		return nil, fmt.Errorf("invalid plugin list: %w", err)
	}
	seen := map[string]bool{}
	entries := make([]Entry, 0, len(items))
	for i, it := range items {
		e := Entry{Name: it.Name, Kind: kind, Location: it.Location, SHA256: strings.ToLower(it.SHA256), Args: it.Args}
		for _, h := range it.HeadersFrom {
			e.HeadersFrom = append(e.HeadersFrom, h.SecretRef.Name)
		}
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("item %d: duplicate plugin name %q", i, e.Name)
		}
		seen[e.Name] = true
		entries = append(entries, e)
	}
	return entries, nil
}

// Validate checks the entry's name, kind, location scheme and checksum format.
func (e Entry) Validate() error {
	if !matches(NamePattern, e.Name) {
		return fmt.Errorf("plugin name %q must be <namespace>/<name> (matching %s)", e.Name, NamePattern)
	}
	if e.Kind != plugins.KindTrafficRouter && e.Kind != plugins.KindMetricProvider {
		return fmt.Errorf("plugin %s: unknown kind %q", e.Name, e.Kind)
	}
	if !strings.HasPrefix(e.Location, "file://") && !strings.HasPrefix(e.Location, "https://") {
		return fmt.Errorf("plugin %s: location %q must start with file:// or https://", e.Name, e.Location)
	}
	if e.SHA256 != "" && !matches(sha256Pattern, e.SHA256) {
		return fmt.Errorf("plugin %s: sha256 %q is not 64 hex characters", e.Name, e.SHA256)
	}
	for _, s := range e.HeadersFrom {
		if s == "" {
			return fmt.Errorf("plugin %s: headersFrom entry without secretRef.name", e.Name)
		}
	}
	return nil
}

// LoadDir reads a plugin directory: the binaries listed in its SHA256SUMS file (sha256sum
// format: "<hex>  <file>" or "<hex> *<file>"). Each binary's kind is detected by trying the
// handshake (DetectKind, after verifying its sum). The plugin name is "nerve/<x>" for a binary
// named nerve-<x>, else "nerve/<file>". Binaries not listed in SHA256SUMS are ignored.
func LoadDir(dir string) (Registry, error) {
	sums, err := ReadSums(filepath.Join(dir, SumsFile))
	if err != nil {
		return Registry{}, err
	}
	files := make([]string, 0, len(sums))
	for f := range sums {
		files = append(files, f)
	}
	sort.Strings(files)
	var reg Registry
	for _, f := range files {
		e, err := dirEntry(dir, f, sums[f])
		if err != nil {
			return Registry{}, err
		}
		if e.Kind == plugins.KindMetricProvider {
			reg.MetricProviders = append(reg.MetricProviders, e)
		} else {
			reg.TrafficRouters = append(reg.TrafficRouters, e)
		}
	}
	return reg, nil
}

// dirEntry builds the entry of one binary of a plugin directory.
func dirEntry(dir, file, sum string) (Entry, error) {
	abs, err := filepath.Abs(filepath.Join(dir, file))
	if err != nil {
		return Entry{}, err
	}
	name := "nerve/" + strings.TrimPrefix(file, "nerve-")
	kind, err := detectKindTimeout(abs, sum)
	if err != nil {
		return Entry{}, fmt.Errorf("plugin directory %s: %s: %w", dir, file, err)
	}
	e := Entry{Name: name, Kind: kind, Location: "file://" + abs, SHA256: sum}
	return e, e.Validate()
}

// ReadSums parses a sha256sum-format file into file name → lowercase hex sum.
func ReadSums(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading checksums: %w", err)
	}
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, file, ok := strings.Cut(line, " ")
		file = strings.TrimPrefix(strings.TrimLeft(file, " "), "*")
		if !ok || !matches(sha256Pattern, sum) || file == "" || strings.ContainsRune(file, '/') {
			return nil, fmt.Errorf("%s:%d: not a sha256sum line: %q", path, n, line)
		}
		sums[file] = strings.ToLower(sum)
	}
	if len(sums) == 0 {
		return nil, errors.Join(fmt.Errorf("%s lists no plugin binaries", path), sc.Err())
	}
	return sums, sc.Err()
}
