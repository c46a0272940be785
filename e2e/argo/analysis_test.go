//go:build e2e

package argo

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// analysisCase is one step-analysis scenario: the gauge value and what it must produce.
type analysisCase struct {
	name     string
	value    float64
	runPhase v1alpha1.AnalysisPhase
	phase    v1alpha1.RolloutPhase
	abort    bool
}

// runAnalysis deploys v1, sets the gauge, waits for Prometheus to have it, then updates to v2
// through gateSteps and returns the observable rollout and run result.
func runAnalysis(t *testing.T, kind controllerKind, c analysisCase) outcome {
	t.Helper()
	s := newSuite(t, kind)
	g, query := framework.StartGaugeTarget(t, "nerve_e2e_argo_gate", "nerve-e2e-argo-"+s.ns)
	g.Set(c.value)
	framework.WaitForPromValue(t, query, c.value)
	s.env.Apply(t, templateYAML(framework.PrometheusURL(t), query))
	s.env.Apply(t, rolloutYAML("gated", gateSteps))
	var v1 string
	s.waitRollout("gated", 90*time.Second, "initial deploy healthy", healthyAt(&v1))
	s.setImage("gated", "v2")
	run := s.waitRun(90 * time.Second)
	ro := s.waitRollout("gated", 90*time.Second, "analysis outcome", func(ro *v1alpha1.Rollout) bool {
		if c.abort {
			return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
		}
		return healthyAt(nil)(ro) && ro.Status.StableRS != v1
	})
	o := outcome{Phase: ro.Status.Phase, Abort: ro.Status.Abort, Promoted: ro.Status.StableRS != v1, Message: s.normalize(ro.Status.Message), RunPhase: run.Status.Phase}
	for _, mr := range run.Status.MetricResults {
		o.MetricMsg = s.normalize(mr.Message)
		for _, m := range mr.Measurements {
			o.Values = append(o.Values, fmt.Sprintf("%s:%s", m.Phase, m.Value))
		}
	}
	t.Logf("%s/%s: %s run.message=%q", kind, c.name, o, s.normalize(run.Status.Message))
	return o
}

// waitRun waits for the rollout's AnalysisRun to reach a completed phase and returns it.
func (s *suite) waitRun(timeout time.Duration) v1alpha1.AnalysisRun {
	s.t.Helper()
	var got v1alpha1.AnalysisRun
	var seen []string
	framework.Eventually(s.t, timeout, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		runs, err := s.runs(ctx)
		if err != nil {
			return false, err
		}
		seen = seen[:0]
		for _, r := range runs {
			seen = append(seen, fmt.Sprintf("%s=%s", r.Name, r.Status.Phase))
			switch r.Status.Phase {
			case v1alpha1.AnalysisPhaseSuccessful, v1alpha1.AnalysisPhaseFailed,
				v1alpha1.AnalysisPhaseError, v1alpha1.AnalysisPhaseInconclusive:
				got = r
				return true, nil
			}
		}
		return false, nil
	}, "a completed AnalysisRun (seen: %s)", lazyJoin{&seen})
	return got
}

type lazyJoin struct{ s *[]string }

func (l lazyJoin) String() string { return strings.Join(*l.s, ",") }

// TestAnalysisArgoVsNerve: a canary step analysis on nerve/prometheus, under the real Argo
// controller (on nerve's CRDs) and under nerve's loop, succeeds on a good gauge and aborts the
// rollout on a bad one, with the same run and rollout phases and the same rollout and metric
// messages (Argo's abort message embeds the run's, which embeds the measurement's) under both.
func TestAnalysisArgoVsNerve(t *testing.T) {
	cases := []analysisCase{
		{name: "good", value: 0.002, runPhase: v1alpha1.AnalysisPhaseSuccessful, phase: v1alpha1.RolloutPhaseHealthy},
		{name: "bad", value: 0.02, runPhase: v1alpha1.AnalysisPhaseFailed, phase: v1alpha1.RolloutPhaseDegraded, abort: true},
	}
	var mu sync.Mutex
	got := map[string]outcome{}
	t.Run("group", func(t *testing.T) {
		for _, c := range cases {
			for _, kind := range []controllerKind{argoController, nerveController} {
				t.Run(c.name+"/"+string(kind), func(t *testing.T) {
					t.Parallel()
					o := runAnalysis(t, kind, c)
					if o.RunPhase != c.runPhase || o.Phase != c.phase || o.Abort != c.abort {
						t.Errorf("%s/%s: got run=%s phase=%s abort=%v, want run=%s phase=%s abort=%v",
							kind, c.name, o.RunPhase, o.Phase, o.Abort, c.runPhase, c.phase, c.abort)
					}
					mu.Lock()
					got[c.name+"/"+string(kind)] = o
					mu.Unlock()
				})
			}
		}
	})
	if t.Failed() {
		return
	}
	for _, c := range cases {
		a, n := got[c.name+"/"+string(argoController)], got[c.name+"/"+string(nerveController)]
		if a.RunPhase != n.RunPhase || a.Phase != n.Phase || a.Abort != n.Abort || a.Promoted != n.Promoted ||
			a.Message != n.Message || a.MetricMsg != n.MetricMsg {
			t.Errorf("%s: outcomes differ:\n argo:  %s\n nerve: %s", c.name, a, n)
		}
	}
}
