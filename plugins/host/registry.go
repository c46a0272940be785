// Package host runs plugin binaries of both kinds (traffic routers and metric providers) for a
// controller or a CLI: it reads plugin entries in Argo's argo-rollouts-config ConfigMap format or
// from a plugin directory, verifies each binary's sha256 before every exec, starts plugins lazily,
// pings them on reuse, respawns them (and re-runs InitPlugin) after a crash, re-levels their
// stderr through hclog and kills them on Close. Every failure names the plugin.
//
// The package is the only owner of the registry format: the ConfigMap (CheckConfigMap returns
// findings with field paths for lint and doctor, ParseConfigMap is the strict form the
// controller uses, Registry.ConfigMapData writes it), the plugin directory (SHA256SUMS, LoadDir,
// BinaryName) and the sha256 rule (NormalizeSHA256, FileSHA256).
package host

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/nerve-rollouts/nerve/plugins"
)

// ConfigMapName is Argo's controller ConfigMap holding the plugin registry.
const ConfigMapName = "argo-rollouts-config"

// ConfigMap data keys of argo-rollouts-config (the wire table's, plugins.Kinds).
const (
	ConfigKeyTrafficRouters  = plugins.ConfigKeyTrafficRouters
	ConfigKeyMetricProviders = plugins.ConfigKeyMetricProviders
)

// NamePattern is Argo's plugin name rule: <namespace>/<name>.
const NamePattern = `^([a-zA-Z0-9\-]+)\/{1}([a-zA-Z0-9_\-.]+)$`

// sha256Pattern is a hex sha256 sum, in either case.
const sha256Pattern = `^[0-9a-fA-F]{64}$`

// matches reports whether s matches the (constant, valid) pattern.
func matches(pattern, s string) bool {
	ok, err := regexp.MatchString(pattern, s)
	return ok && err == nil
}

// NormalizeSHA256 is the one sha256 format rule: 64 hex characters in either case, normalised to
// lowercase (as sha256sum and FileSHA256 print it). ok is false for anything else.
func NormalizeSHA256(s string) (sum string, ok bool) {
	if !matches(sha256Pattern, s) {
		return s, false
	}
	return strings.ToLower(s), true
}

// Entry is one plugin: its name (<namespace>/<name>), kind, where its binary lives (file:// or
// https://), the binary's expected sha256 (hex; "" = unverified) and its command-line arguments.
// Entries read by this package carry a lowercase sum; the host compares sums case-insensitively.
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
	switch kind {
	case plugins.KindMetricProvider:
		return r.MetricProviders
	case plugins.KindTrafficRouter:
		return r.TrafficRouters
	default:
		return nil
	}
}

// Add appends e to the list of its kind (an entry of an unknown kind is dropped; it never
// passes Validate).
func (r *Registry) Add(e Entry) {
	switch e.Kind {
	case plugins.KindMetricProvider:
		r.MetricProviders = append(r.MetricProviders, e)
	case plugins.KindTrafficRouter:
		r.TrafficRouters = append(r.TrafficRouters, e)
	}
}

// Validate checks the entry's name, kind, location scheme and checksum format.
func (e Entry) Validate() error {
	if err := FindingsError(e.check("")); err != nil {
		return fmt.Errorf("plugin %q: %w", e.Name, err)
	}
	return nil
}

// check returns the findings of an entry; at is its path ("" for a programmatic entry).
func (e Entry) check(at string) []Finding {
	field := func(f string) string {
		if at == "" {
			return f
		}
		return at + "." + f
	}
	var fs []Finding
	switch {
	case e.Name == "":
		fs = append(fs, errorf(field("name"), "plugin name is required (<namespace>/<name>)"))
	case !matches(NamePattern, e.Name):
		fs = append(fs, errorf(field("name"), "plugin name %q must be <namespace>/<name> (matching %s)", e.Name, NamePattern))
	}
	if !e.Kind.Known() {
		fs = append(fs, errorf(field("kind"), "unknown plugin kind %q", e.Kind))
	}
	if f, bad := checkLocation(field("location"), e.Location); bad {
		fs = append(fs, f)
	}
	fs = append(fs, e.checkSHA256(field("sha256"))...)
	for j, s := range e.HeadersFrom {
		if s == "" {
			fs = append(fs, errorf(field(fmt.Sprintf("headersFrom[%d].secretRef.name", j)), "headersFrom entry without secretRef.name"))
		}
	}
	return fs
}

// checkLocation is the one location rule: file:// or https:// (http:// would fetch an
// executable over an unauthenticated channel).
func checkLocation(path, loc string) (Finding, bool) {
	switch {
	case strings.HasPrefix(loc, "file://"), strings.HasPrefix(loc, "https://"):
		return Finding{}, false
	case loc == "":
		return errorf(path, "location is required (file://... or https://...)"), true
	case strings.HasPrefix(loc, "http://"):
		return errorf(path, "location %q must start with file:// or https:// (plain http:// is refused)", loc), true
	default:
		return errorf(path, "location %q must start with file:// or https://", loc), true
	}
}

// checkSHA256 checks the sum's format; a missing sum is a warning (the host refuses to run the
// binary unless unverified plugins are allowed).
func (e Entry) checkSHA256(path string) []Finding {
	if e.SHA256 == "" {
		return []Finding{warnf(path, "plugin %q has no sha256: it only runs where unverified plugins are allowed "+
			"(`kubectl nerve plugins config` writes the sums)", e.Name)}
	}
	if _, ok := NormalizeSHA256(e.SHA256); !ok {
		return []Finding{errorf(path, "sha256 %q is not 64 hex characters", e.SHA256)}
	}
	return nil
}

// pluginItem is one list element of the ConfigMap (Argo's PluginItem).
type pluginItem struct {
	Name        string        `json:"name"`
	Location    string        `json:"location"`
	SHA256      string        `json:"sha256,omitempty"`
	Args        []string      `json:"args,omitempty"`
	HeadersFrom []headersFrom `json:"headersFrom,omitempty"`
}

// headersFrom is one headersFrom element of a plugin item.
type headersFrom struct {
	SecretRef secretRef `json:"secretRef"`
}

// secretRef names the Secret of a headersFrom element.
type secretRef struct {
	Name string `json:"name"`
}

// ParseConfigMap is the strict form of CheckConfigMap the controller uses: any Error finding
// makes the whole ConfigMap invalid. Warnings are ignored.
func ParseConfigMap(data map[string]string) (Registry, error) {
	reg, fs := CheckConfigMap(data)
	if err := FindingsError(fs); err != nil {
		return Registry{}, fmt.Errorf("invalid plugin registry in %s: %w", ConfigMapName, err)
	}
	return reg, nil
}

// CheckConfigMap reads the plugin lists of an argo-rollouts-config ConfigMap's data (one key per
// plugin kind, plugins.Kinds; a missing key means no plugins of that kind). It returns the
// entries without Error findings (sums normalised to lowercase) and every finding, with paths
// rooted at the ConfigMap ("data.trafficRouterPlugins[1].location").
func CheckConfigMap(data map[string]string) (Registry, []Finding) {
	var reg Registry
	var fs []Finding
	for _, spec := range plugins.Kinds() {
		entries, found := checkList(data[spec.ConfigKey], spec.Kind, "data."+spec.ConfigKey)
		for _, e := range entries {
			reg.Add(e)
		}
		fs = append(fs, found...)
	}
	return reg, fs
}

// checkList parses and checks one YAML list of plugin items at path.
func checkList(doc string, kind plugins.Kind, path string) ([]Entry, []Finding) {
	if strings.TrimSpace(doc) == "" {
		return nil, nil
	}
	var raws []json.RawMessage
	if err := yaml.UnmarshalStrict([]byte(doc), &raws); err != nil {
		return nil, []Finding{errorf(path, "invalid plugin list (want a YAML list of {name, location, sha256, args, headersFrom}): %v", err)}
	}
	var entries []Entry
	var fs []Finding
	seen := map[string]int{}
	for i, raw := range raws {
		at := fmt.Sprintf("%s[%d]", path, i)
		e, found := checkItem(raw, kind, at)
		if j, dup := seen[e.Name]; dup && e.Name != "" {
			found = append(found, errorf(at+".name", "duplicate plugin name %q (also %s[%d])", e.Name, path, j))
		} else {
			seen[e.Name] = i
		}
		fs = append(fs, found...)
		if FindingsError(found) == nil {
			entries = append(entries, e)
		}
	}
	return entries, fs
}

// checkItem decodes (rejecting unknown fields) and checks one plugin item.
func checkItem(raw json.RawMessage, kind plugins.Kind, at string) (Entry, []Finding) {
	var it pluginItem
	var fs []Finding
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&it); err != nil {
		fs = append(fs, decodeFinding(at, err))
		it = pluginItem{}
		if json.Unmarshal(raw, &it) != nil {
			return Entry{Kind: kind}, fs
		}
	}
	e := it.entry(kind)
	return e, append(fs, e.check(at)...)
}

// decodeFinding turns a JSON decoding error of the item at into a finding on its field.
func decodeFinding(at string, err error) Finding {
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return errorf(at+"."+strings.Trim(field, `"`), "unknown field %s", field)
	}
	if te := (*json.UnmarshalTypeError)(nil); errors.As(err, &te) && te.Field != "" {
		return errorf(at+"."+te.Field, "wrong type: %s where %s is expected", te.Value, te.Type)
	}
	return errorf(at, "invalid plugin item: %v", err)
}

// entry converts an item into an entry of kind, normalising the sum.
func (it pluginItem) entry(kind plugins.Kind) Entry {
	e := Entry{Name: it.Name, Kind: kind, Location: it.Location, SHA256: it.SHA256, Args: it.Args}
	if sum, ok := NormalizeSHA256(it.SHA256); ok {
		e.SHA256 = sum
	}
	for _, h := range it.HeadersFrom {
		e.HeadersFrom = append(e.HeadersFrom, h.SecretRef.Name)
	}
	return e
}

// ConfigMapData writes the registry in the argo-rollouts-config format: one data key per plugin
// kind that has entries. Every entry must be valid.
func (r Registry) ConfigMapData() (map[string]string, error) {
	data := map[string]string{}
	for _, spec := range plugins.Kinds() {
		entries := r.Entries(spec.Kind)
		if len(entries) == 0 {
			continue
		}
		items := make([]pluginItem, 0, len(entries))
		for _, e := range entries {
			if err := e.Validate(); err != nil {
				return nil, err
			}
			items = append(items, itemOf(e))
		}
		out, err := yaml.Marshal(items)
		if err != nil {
			return nil, err
		}
		data[spec.ConfigKey] = string(out)
	}
	return data, nil
}

// itemOf converts an entry into a ConfigMap item.
func itemOf(e Entry) pluginItem {
	it := pluginItem{Name: e.Name, Location: e.Location, SHA256: strings.ToLower(e.SHA256), Args: e.Args}
	for _, s := range e.HeadersFrom {
		it.HeadersFrom = append(it.HeadersFrom, headersFrom{SecretRef: secretRef{Name: s}})
	}
	return it
}
