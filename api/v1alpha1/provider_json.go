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
