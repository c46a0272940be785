package analysis

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

// BuiltinPluginPrefix is the namespace under which built-in provider kinds are looked up as
// plugins: provider.prometheus runs through the plugin nerve/prometheus.
const BuiltinPluginPrefix = "nerve/"

// PluginFor returns the plugin name a metric runs through and the metric as the plugin sees it:
// a built-in provider block (prometheus, web, ...) is rewritten to provider.plugin["nerve/<kind>"]
// carrying the same JSON.
func PluginFor(m v1alpha1.Metric) (string, v1alpha1.Metric, error) {
	kinds := m.Provider.Kinds()
	if len(kinds) != 1 {
		return "", m, fmt.Errorf("metric %q must have exactly one provider, has %d", m.Name, len(kinds))
	}
	if kinds[0] == "plugin" {
		if len(m.Provider.Plugin) != 1 {
			return "", m, fmt.Errorf("metric %q: provider.plugin must name exactly one plugin", m.Name)
		}
		for name := range m.Provider.Plugin {
			return name, m, nil
		}
	}
	raw, err := builtinJSON(m.Provider, kinds[0])
	if err != nil {
		return "", m, fmt.Errorf("metric %q: provider %s: %w", m.Name, kinds[0], err)
	}
	name := BuiltinPluginPrefix + kinds[0]
	out := m
	out.Provider = v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{name: raw}}
	return name, out, nil
}

func builtinJSON(p v1alpha1.MetricProvider, kind string) (json.RawMessage, error) {
	all, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var blocks map[string]json.RawMessage
	if err := json.Unmarshal(all, &blocks); err != nil {
		return nil, err
	}
	return blocks[kind], nil
}

// provider resolves the plugin a metric runs through; the error names the provider when no
// plugin is registered for it.
func (e *Engine) provider(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric) (v1alpha1.Metric, plugins.MetricProvider, error) {
	args, err := ResolveArgs(ctx, run, e.Secrets)
	if err != nil {
		return m, nil, err
	}
	sub, err := Substitute(m, args)
	if err != nil {
		return m, nil, err
	}
	name, resolved, err := PluginFor(sub)
	if err != nil {
		return m, nil, err
	}
	if !e.Providers.Has(plugins.KindMetricProvider, name) {
		kind := m.Provider.Kinds()[0]
		if kind == "plugin" {
			return m, nil, fmt.Errorf("metric provider plugin %q is not registered in argo-rollouts-config (metricProviderPlugins)", name)
		}
		return m, nil, fmt.Errorf("metric provider %q is not supported: register a metric provider plugin named %q in argo-rollouts-config", kind, name)
	}
	p, err := e.Providers.MetricProvider(ctx, name)
	if err != nil {
		return m, nil, fmt.Errorf("failed to get metric provider plugin %s: %w", name, err)
	}
	return resolved, p, nil
}

// garbageCollect trims measurements to the retention limit and tells each provider.
func (e *Engine) garbageCollect(ctx context.Context, run *v1alpha1.AnalysisRun) {
	for _, m := range run.Spec.Metrics {
		r := findResult(run, m.Name)
		if r == nil {
			continue
		}
		limit := retention(run, m.Name)
		if len(r.Measurements) > limit {
			r.Measurements = append([]v1alpha1.Measurement(nil), r.Measurements[len(r.Measurements)-limit:]...)
		}
		if resolved, p, err := e.provider(ctx, run, m); err == nil {
			_ = p.GarbageCollect(ctx, run, resolved, limit)
		}
	}
}

func retention(run *v1alpha1.AnalysisRun, name string) int {
	rules, _ := RetentionMetrics(run.Spec.MeasurementRetention, run.Spec.Metrics)
	if mr, ok := rules[name]; ok && mr.Limit > 0 {
		return int(mr.Limit)
	}
	return DefaultMeasurementRetention
}

// validateRun checks what the engine needs before measuring.
func validateRun(run *v1alpha1.AnalysisRun) error {
	if len(run.Spec.Metrics) == 0 {
		return fmt.Errorf("analysis run has no metrics")
	}
	seen := map[string]bool{}
	for _, m := range run.Spec.Metrics {
		if seen[m.Name] {
			return fmt.Errorf("duplicate metric name %q", m.Name)
		}
		seen[m.Name] = true
		if _, _, err := PluginFor(m); err != nil {
			return err
		}
	}
	if _, err := DryRunMetrics(run.Spec.DryRun, run.Spec.Metrics); err != nil {
		return fmt.Errorf("Analysis spec invalid: %w", err)
	}
	if _, err := RetentionMetrics(run.Spec.MeasurementRetention, run.Spec.Metrics); err != nil {
		return fmt.Errorf("Analysis spec invalid: %w", err)
	}
	return nil
}
