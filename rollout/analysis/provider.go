package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

// BuiltinPluginPrefix is the namespace under which built-in provider kinds are looked up as
// plugins: provider.prometheus runs through the plugin nerve/prometheus.
const BuiltinPluginPrefix = "nerve/"

// BuiltinPlugin is one built-in provider block that a nerve plugin runs.
type BuiltinPlugin struct {
	// Kind is the provider block's key (provider.<Kind>).
	Kind string
	// Plugin is the name to register it under in argo-rollouts-config (metricProviderPlugins).
	Plugin string
	// Binary is the nerve plugin binary that runs it (bin/plugins/<Binary>).
	Binary string
}

// BuiltinPlugins is the one table of the built-in provider blocks nerve ships a plugin for;
// every other built-in kind (datadog, newRelic, ...) has none and is looked up as
// BuiltinPluginPrefix+kind, so that a user's own plugin may still be registered for it.
func BuiltinPlugins() []BuiltinPlugin {
	return []BuiltinPlugin{
		{Kind: "prometheus", Plugin: "nerve/prometheus", Binary: "nerve-prometheus"},
		{Kind: "web", Plugin: "nerve/web", Binary: "nerve-web"},
		{Kind: "job", Plugin: "nerve/job", Binary: "nerve-job"},
	}
}

// BuiltinPluginFor returns the table row of a built-in provider kind, ok=false when nerve
// ships no plugin for it.
func BuiltinPluginFor(kind string) (BuiltinPlugin, bool) {
	for _, b := range BuiltinPlugins() {
		if b.Kind == kind {
			return b, true
		}
	}
	return BuiltinPlugin{Kind: kind, Plugin: BuiltinPluginPrefix + kind}, false
}

// PluginFor returns the plugin name a metric runs through and the metric as the plugin sees it:
// a built-in provider block (prometheus, web, ...) is rewritten to provider.plugin[<plugin>]
// (BuiltinPluginFor's name) carrying the same JSON.
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
	b, _ := BuiltinPluginFor(kinds[0])
	out := m
	out.Provider = v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{b.Plugin: raw}}
	return b.Plugin, out, nil
}

// MissingPlugin explains a metric whose plugin is not registered: which plugin to register
// (and, for a built-in block, which nerve binary runs it, or that nerve ships none).
func MissingPlugin(m v1alpha1.Metric, plugin string) string {
	kinds := m.Provider.Kinds()
	if len(kinds) == 1 && kinds[0] != "plugin" {
		if b, ok := BuiltinPluginFor(kinds[0]); ok {
			return fmt.Sprintf("metric %q: provider %s runs through the metric provider plugin %q: register %s as %q in argo-rollouts-config (metricProviderPlugins)",
				m.Name, kinds[0], b.Plugin, b.Binary, b.Plugin)
		}
		return fmt.Sprintf("metric %q: provider %s is not run by nerve: register a metric provider plugin named %q in argo-rollouts-config (metricProviderPlugins), or use provider.plugin",
			m.Name, kinds[0], plugin)
	}
	return fmt.Sprintf("metric %q: metric provider plugin %q is not registered in argo-rollouts-config (metricProviderPlugins)", m.Name, plugin)
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
		return m, nil, errors.New(MissingPlugin(m, name))
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

// validateRun refuses a run as Argo's reconcileAnalysisRun does, with its messages: the
// arguments must resolve ("Unable to resolve metric arguments: ..."), the metrics must be valid
// and every dryRun and measurementRetention rule must match a metric ("Analysis spec invalid: ...").
func validateRun(run *v1alpha1.AnalysisRun) error {
	resolved, err := ResolveWithoutSecrets(run.Spec.Metrics, run.Spec.Args)
	if err != nil {
		return fmt.Errorf("Unable to resolve metric arguments: %w", err)
	}
	if err := ValidateMetrics(resolved); err != nil {
		return fmt.Errorf("Analysis spec invalid: %w", err)
	}
	if _, err := DryRunMetrics(run.Spec.DryRun, run.Spec.Metrics); err != nil {
		return fmt.Errorf("Analysis spec invalid: %w", err)
	}
	if _, err := RetentionMetrics(run.Spec.MeasurementRetention, run.Spec.Metrics); err != nil {
		return fmt.Errorf("Analysis spec invalid: %w", err)
	}
	for _, m := range run.Spec.Metrics {
		if _, _, err := PluginFor(m); err != nil {
			return err
		}
	}
	return nil
}
