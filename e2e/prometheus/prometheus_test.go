//go:build e2e

package prometheus

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
	provider "github.com/nerve-rollouts/nerve/metricprovider/prometheus"
)

const (
	name = provider.DefaultName
	// The seed's latency gate: p99 < 5 ms, with a failure condition for the opposite.
	gateOK  = "result[0] < 0.005"
	gateBad = "result[0] >= 0.005"
)

// TestMeasurementsAgainstRealPrometheus drives the real plugin binary over the real wire against
// the real local Prometheus scraping a target whose values the test sets, and shows every
// documented outcome: success, failure, inconclusive, empty vector and NaN (Argo's default and
// nerve's policies), plus scalar/matrix/range-query mapping and the built-in provider block.
func TestMeasurementsAgainstRealPrometheus(t *testing.T) {
	tg := startTarget(t)
	values := map[string]float64{"success": 0.001, "failure": 0.02, "inconclusive": 0.004, "nan": math.NaN()}
	for c, v := range values {
		tg.gauge.WithLabelValues(c).Set(v)
	}
	tg.hist.WithLabelValues("idle") // a histogram without observations: histogram_quantile is NaN
	p := startProvider(t, name)
	for c, v := range values {
		tg.waitValue(t, c, v)
	}
	promURL := framework.PrometheusURL(t)
	cfg := func(query string, extra ...any) map[string]any {
		c := map[string]any{"address": promURL, "query": query, "timeout": 10}
		for i := 0; i+1 < len(extra); i += 2 {
			c[extra[i].(string)] = extra[i+1]
		}
		return c
	}

	tests := []struct {
		name             string
		cfg              map[string]any
		success, failure string
		phase            v1alpha1.AnalysisPhase
		value            string
		msg              []string
	}{
		{"success", cfg(tg.sel("success")), gateOK, gateBad, v1alpha1.AnalysisPhaseSuccessful, "[0.001]",
			[]string{`successCondition "result[0] < 0.005" is true`, "-> Successful", "query: " + tg.sel("success")}},
		{"failure", cfg(tg.sel("failure")), gateOK, gateBad, v1alpha1.AnalysisPhaseFailed, "[0.02]",
			[]string{`failureCondition "result[0] >= 0.005" is true`, "-> Failed"}},
		{"success condition only, not met", cfg(tg.sel("failure")), gateOK, "", v1alpha1.AnalysisPhaseFailed, "[0.02]",
			[]string{"no failureCondition is set"}},
		{"inconclusive: both set, neither true", cfg(tg.sel("inconclusive")), "result[0] < 0.003", gateBad, v1alpha1.AnalysisPhaseInconclusive, "[0.004]",
			[]string{"neither condition is true"}},
		{"empty vector, Argo default: Error", cfg(tg.sel("absent")), gateOK, gateBad, v1alpha1.AnalysisPhaseError, "[]",
			[]string{"metric result is nil or empty: no data returned from the metric provider"}},
		{"empty vector, Argo default with a len guard: Successful (the false pass nerve warns about)", cfg(tg.sel("absent")),
			"len(result) == 0 || result[0] < 0.005", "", v1alpha1.AnalysisPhaseSuccessful, "[]", []string{"note: the result is empty"}},
		{"empty vector, emptyResult=inconclusive", cfg(tg.sel("absent"), "emptyResult", "inconclusive"),
			"len(result) == 0 || result[0] < 0.005", "", v1alpha1.AnalysisPhaseInconclusive, "[]", []string{`emptyResult policy "inconclusive"`}},
		{"empty vector, emptyResult=failed", cfg(tg.sel("absent"), "emptyResult", "failed"), gateOK, gateBad,
			v1alpha1.AnalysisPhaseFailed, "[]", []string{`emptyResult policy "failed"`}},
		{"NaN, Argo default, both conditions: Inconclusive", cfg(tg.sel("nan")), gateOK, gateBad, v1alpha1.AnalysisPhaseInconclusive, "[NaN]",
			[]string{"note: the result contains NaN"}},
		{"NaN, Argo default, success only: Failed", cfg(tg.sel("nan")), gateOK, "", v1alpha1.AnalysisPhaseFailed, "[NaN]", nil},
		{"NaN, Argo default, failure only: Successful (the false pass nerve warns about)", cfg(tg.sel("nan")), "", gateBad,
			v1alpha1.AnalysisPhaseSuccessful, "[NaN]", []string{"note: the result contains NaN"}},
		{"NaN, nanResult=failed", cfg(tg.sel("nan"), "nanResult", "failed"), "", gateBad, v1alpha1.AnalysisPhaseFailed, "[NaN]",
			[]string{`nanResult policy "failed"`}},
		{"NaN, nanResult=error", cfg(tg.sel("nan"), "nanResult", "error"), gateOK, gateBad, v1alpha1.AnalysisPhaseError, "[NaN]",
			[]string{`nanResult policy "error"`}},
		{"scalar", cfg(fmt.Sprintf("scalar(%s)", tg.sel("success"))), "result < 0.005", "", v1alpha1.AnalysisPhaseSuccessful, "0.001", nil},
		{"matrix from an instant query: Error", cfg(tg.sel("success") + "[1m]"), gateOK, "", v1alpha1.AnalysisPhaseError, "",
			[]string{"Prometheus metric type not supported", "range vector (matrix)"}},
		{"range query: flattened samples", cfg(tg.sel("success"), "rangeQuery", map[string]any{"start": "now() - duration('20s')", "end": "now()", "step": "5s"}),
			"len(result) > 0 && all(result, {# < 0.005})", "", v1alpha1.AnalysisPhaseSuccessful, "", nil},
		{"invalid PromQL: Error naming the address", cfg("sum(("), gateOK, "", v1alpha1.AnalysisPhaseError, "",
			[]string{"Prometheus at " + promURL + " rejected the query", "bad_data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := measure(t, p, metric(t, name, tt.cfg, tt.success, tt.failure))
			expect(t, m, tt.phase, tt.value, tt.msg...)
		})
	}

	t.Run("histogram_quantile over a window without observations is NaN; nanResult=inconclusive", func(t *testing.T) {
		q := fmt.Sprintf(`histogram_quantile(0.99, sum by (le)(rate(nerve_e2e_latency_seconds_bucket{job=%q,case="idle"}[30s])))`, tg.job)
		m := metric(t, name, cfg(q, "nanResult", "inconclusive"), gateOK, gateBad)
		var got v1alpha1.Measurement
		// rate() needs two scrapes: until then the vector is empty (an Error without emptyResult).
		framework.Eventually(t, 30*time.Second, 500*time.Millisecond, func(context.Context) (bool, error) {
			got = measure(t, p, m)
			return got.Value == "[NaN]", nil
		}, "histogram_quantile to return NaN")
		expect(t, got, v1alpha1.AnalysisPhaseInconclusive, "[NaN]", `nanResult policy "inconclusive"`)
	})

	t.Run("built-in provider.prometheus block", func(t *testing.T) {
		timeout := int64(10)
		m := v1alpha1.Metric{Name: "builtin", SuccessCondition: gateOK, FailureCondition: gateBad,
			Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Address: promURL, Query: tg.sel("success"), Timeout: &timeout}}}
		expect(t, measure(t, p, m), v1alpha1.AnalysisPhaseSuccessful, "[0.001]")
	})

	t.Run("GetMetadata returns the resolved query", func(t *testing.T) {
		md, err := p.GetMetadata(t.Context(), metric(t, name, cfg(tg.sel("success")), gateOK, ""))
		if err != nil || md[provider.ResolvedPrometheusQuery] != tg.sel("success") {
			t.Fatalf("GetMetadata = %v, %v", md, err)
		}
	})

	t.Run("Resume, Terminate and GarbageCollect", func(t *testing.T) {
		m := metric(t, name, cfg(tg.sel("success")), gateOK, gateBad)
		done := measure(t, p, m)
		for _, f := range []func(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, v1alpha1.Measurement) (v1alpha1.Measurement, error){p.Resume, p.Terminate} {
			got, err := f(t.Context(), &v1alpha1.AnalysisRun{}, m, done)
			if err != nil || got.Phase != done.Phase || got.Value != done.Value || got.Message != done.Message {
				t.Fatalf("Resume/Terminate changed a finished measurement: %+v, %v", got, err)
			}
		}
		if err := p.GarbageCollect(t.Context(), &v1alpha1.AnalysisRun{}, m, 10); err != nil {
			t.Fatalf("GarbageCollect: %v", err)
		}
	})
}

// TestPrometheusDown: a Prometheus that is not running yields Error measurements naming the
// address, one after another, never Successful, even with conditions that pass on empty results.
// Five in a row exceed Argo's default consecutiveErrorLimit (4); the run-level outcome through the
// core loop is covered in e2e/rollout.
func TestPrometheusDown(t *testing.T) {
	p := startProvider(t, name)
	addr := "http://" + closedPort(t)
	conditions := [][2]string{{"len(result) == 0 || result[0] < 0.005", ""}, {"", "len(result) > 0 && result[0] >= 0.005"}, {gateOK, gateBad}}
	for i := range 5 {
		c := conditions[i%len(conditions)]
		m := measure(t, p, metric(t, name, map[string]any{"address": addr, "query": "up", "timeout": 5, "emptyResult": ""}, c[0], c[1]))
		expect(t, m, v1alpha1.AnalysisPhaseError, "", "Prometheus at "+addr+" is unreachable", "connection refused")
	}
}

// TestSlowPrometheus: a Prometheus that accepts connections and never answers yields an Error
// measurement that names the address and the configured timeout.
func TestSlowPrometheus(t *testing.T) {
	p := startProvider(t, name)
	addr := "http://" + silentListener(t)
	m := measure(t, p, metric(t, name, map[string]any{"address": addr, "query": "up", "timeout": 2}, gateOK, ""))
	expect(t, m, v1alpha1.AnalysisPhaseError, "", "Prometheus at "+addr+" did not answer within the 2s timeout (timeout: 2)")
}

// TestPluginNameFlag: with --name the plugin reads provider.plugin[<name>] and nothing else.
func TestPluginNameFlag(t *testing.T) {
	const alt = "e2e/prom-alt"
	p := startProvider(t, alt, "--name", alt)
	promURL := framework.PrometheusURL(t)
	expect(t, measure(t, p, metric(t, alt, map[string]any{"address": promURL, "query": "vector(1)"}, "result[0] == 1", "")),
		v1alpha1.AnalysisPhaseSuccessful, "[1]")
	expect(t, measure(t, p, metric(t, name, map[string]any{"address": promURL, "query": "vector(1)"}, "result[0] == 1", "")),
		v1alpha1.AnalysisPhaseError, "", `provider.plugin["e2e/prom-alt"]`)
}
