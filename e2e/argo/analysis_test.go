//go:build e2e

package argo

import (
	"context"
	"fmt"
	"strings"
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

// runAnalysis deploys v1 gated by a gauge at c.value, then updates to v2 through gateSteps and
// returns the observable rollout and run result.
func runAnalysis(t *testing.T, kind controllerKind, c analysisCase) outcome {
	t.Helper()
	s := newSuite(t, kind)
	s.gate(c.value)
	s.env.Apply(t, rolloutYAML("gated", "", gateSteps))
	var v1 string
	s.waitRollout("gated", 90*time.Second, "initial deploy healthy", healthyAt(&v1))
	s.setImage("gated", "v2")
	return s.analysisOutcome("gated", v1, c)
}

// analysisOutcome waits for the update's AnalysisRun to complete and for the rollout to be
// promoted (or aborted when c.abort), and returns what both show.
func (s *suite) analysisOutcome(name, v1 string, c analysisCase) outcome {
	s.t.Helper()
	lap := laps(s.t)
	defer lap("done")
	run := s.waitRun(90 * time.Second)
	lap("run completed")
	ro := s.waitRollout(name, 90*time.Second, "analysis outcome", func(ro *v1alpha1.Rollout) bool {
		if c.abort {
			return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
		}
		return healthyAt(nil)(ro) && ro.Status.StableRS != v1
	})
	lap("promoted or aborted")
	s.waitRollout(name, 60*time.Second, "the losing ReplicaSet scaled down", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Replicas == 2 && ro.Status.AvailableReplicas == 2
	})
	lap("scaled down")
	o := outcome{Phase: ro.Status.Phase, Abort: ro.Status.Abort, Promoted: ro.Status.StableRS != v1, Message: s.normalize(ro.Status.Message), RunPhase: run.Status.Phase,
		Renders: []string{s.settledRender(name)}}
	for _, mr := range run.Status.MetricResults {
		o.MetricMsg = s.normalize(mr.Message)
		for _, m := range mr.Measurements {
			o.Values = append(o.Values, fmt.Sprintf("%s:%s", m.Phase, m.Value))
		}
	}
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
	compareOutcomes(t, false, gateCases(), runAnalysis)
}
