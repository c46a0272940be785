package v1alpha1

import (
	"encoding/json"
	"fmt"
	"sort"
)

// knownProviders are the provider keys MetricProvider models as fields.
func knownProvider(key string) bool {
	switch key {
	case "prometheus", "web", "job", "plugin":
		return true
	}
	return false
}

// UnmarshalJSON decodes the modelled providers and keeps every other provider block in Other.
func (p *MetricProvider) UnmarshalJSON(data []byte) error {
	type plain MetricProvider
	var known plain
	if err := json.Unmarshal(data, &known); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return fmt.Errorf("metric provider: %w", err)
	}
	*p = MetricProvider(known)
	p.Other = nil
	for k, v := range all {
		if knownProvider(k) {
			continue
		}
		if p.Other == nil {
			p.Other = map[string]json.RawMessage{}
		}
		p.Other[k] = v
	}
	return nil
}

// MarshalJSON encodes the modelled providers and the kept Other blocks.
func (p MetricProvider) MarshalJSON() ([]byte, error) {
	type plain MetricProvider
	base, err := json.Marshal(plain(p))
	if err != nil || len(p.Other) == 0 {
		return base, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(base, &all); err != nil {
		return nil, err
	}
	for k, v := range p.Other {
		if !knownProvider(k) {
			all[k] = v
		}
	}
	return json.Marshal(all)
}

// Kinds lists the provider keys set on this provider ("prometheus", "plugin", "datadog", ...),
// sorted. A valid metric has exactly one.
func (p MetricProvider) Kinds() []string {
	var kinds []string
	if p.Prometheus != nil {
		kinds = append(kinds, "prometheus")
	}
	if p.Web != nil {
		kinds = append(kinds, "web")
	}
	if p.Job != nil {
		kinds = append(kinds, "job")
	}
	if len(p.Plugin) > 0 {
		kinds = append(kinds, "plugin")
	}
	for k := range p.Other {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// PluginConfig returns the raw config this provider gives the metric-provider plugin called
// name, and where it was read from (for error messages): the plugin[name] block, else the
// built-in block of key builtin ("prometheus", "web", "job": Argo's spelling, which nerve runs
// through that plugin). metric names the metric in the error when neither is set.
func (p MetricProvider) PluginConfig(metric, name, builtin string) (raw []byte, source string, err error) {
	if b, ok := p.Plugin[name]; ok {
		return b, fmt.Sprintf("provider.plugin[%q]", name), nil
	}
	source = "provider." + builtin
	all, err := json.Marshal(p)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", source, err)
	}
	var blocks map[string]json.RawMessage
	if err := json.Unmarshal(all, &blocks); err != nil {
		return nil, "", fmt.Errorf("%s: %w", source, err)
	}
	if b, ok := blocks[builtin]; ok && builtin != "plugin" {
		return b, source, nil
	}
	return nil, "", fmt.Errorf("metric %q has neither provider.plugin[%q] nor %s", metric, name, source)
}
