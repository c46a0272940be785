//go:build e2e

package argo

import (
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// objectFamilies are the per-object information metrics both controllers compute from their
// caches: same names, labels and values are what dashboards and alerts built on Argo rely on.
var objectFamilies = regexp.MustCompile(`^(rollout_info|rollout_info_replicas_(available|unavailable|desired|updated)|rollout_phase|` +
	`analysis_run_info|analysis_run_phase|analysis_run_metric_type|analysis_run_metric_phase|` +
	`analysis_template_info|analysis_template_metric_info)\{`)

// objectSeries scrapes the controller's /metrics and returns its information series, with the
// namespace normalised, sorted.
func (s *suite) objectSeries() []string {
	s.t.Helper()
	resp, err := http.Get(s.metrics)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if objectFamilies.MatchString(l) {
			out = append(out, s.normalize(l))
		}
	}
	sort.Strings(out)
	return out
}

// TestObjectMetricsArgoVsNerve: after the same analysis-gated canary under the real Argo
// controller and under nerve's loop, both expose the same rollout_info, rollout_phase,
// rollout_info_replicas_*, analysis_run_*, and analysis_template_* series.
func TestObjectMetricsArgoVsNerve(t *testing.T) {
	got := underBoth(t, func(t *testing.T, kind controllerKind) []string {
		s := newSuite(t, kind)
		s.gate(gateCases()[0].value)
		s.env.Apply(t, rolloutYAML("gated", "", gateSteps))
		var v1 string
		s.waitRollout("gated", 90*time.Second, "initial deploy healthy", healthyAt(&v1))
		s.setImage("gated", "v2")
		s.analysisOutcome("gated", v1, gateCases()[0])
		time.Sleep(2 * time.Second) // both caches see the last status write
		series := s.objectSeries()
		t.Logf("%s:\n%s", kind, strings.Join(series, "\n"))
		return series
	})
	if t.Failed() {
		return
	}
	a, n := strings.Join(got[argoController], "\n"), strings.Join(got[nerveController], "\n")
	if a != n {
		t.Errorf("information metrics differ:\n argo:\n%s\n nerve:\n%s", a, n)
	}
	for _, want := range []string{`rollout_info{name="gated",namespace="<ns>",phase="Completed",strategy="canary",traffic_router=""} 1`,
		`analysis_run_info{`} {
		if !strings.Contains(n, want) {
			t.Errorf("nerve exposes no %s", want)
		}
	}
}
