package view

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

func i32(v int32) *int32 { return &v }

func canary(idx *int32, steps ...v1alpha1.CanaryStep) *v1alpha1.Rollout {
	return &v1alpha1.Rollout{
		Spec:   v1alpha1.RolloutSpec{Replicas: i32(4), Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{Steps: steps}}},
		Status: v1alpha1.RolloutStatus{CurrentStepIndex: idx},
	}
}

func TestSetWeight(t *testing.T) {
	steps := []v1alpha1.CanaryStep{{SetWeight: i32(5)}, {Pause: &v1alpha1.RolloutPause{}}, {SetWeight: i32(50)}}
	for _, tc := range []struct {
		idx  *int32
		want int32
	}{{nil, 5}, {i32(1), 5}, {i32(2), 50}, {i32(3), 100}} {
		if got := SetWeight(canary(tc.idx, steps...)); got != tc.want {
			t.Errorf("idx %v: %d, want %d", tc.idx, got, tc.want)
		}
	}
	ro := canary(i32(2), steps...)
	ro.Status.Abort = true
	if SetWeight(ro) != 0 {
		t.Error("aborted rollout weight")
	}
}

func TestPhase(t *testing.T) {
	ro := canary(i32(1), v1alpha1.CanaryStep{SetWeight: i32(5)}, v1alpha1.CanaryStep{Pause: &v1alpha1.RolloutPause{}})
	ro.Status.PauseConditions = []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonCanaryPauseStep}}
	if p, m := Phase(ro); p != v1alpha1.RolloutPhasePaused || m != "CanaryPauseStep" {
		t.Errorf("paused: %s %s", p, m)
	}
	ro.Status.Conditions = []v1alpha1.RolloutCondition{{Type: v1alpha1.RolloutProgressing, Reason: ReasonRolloutAborted, Message: "metric failed"}}
	if p, _ := Phase(ro); p != v1alpha1.RolloutPhaseDegraded {
		t.Errorf("aborted: %s", p)
	}
	ro.Generation, ro.Status.ObservedGeneration = 3, "2"
	if p, m := Phase(ro); p != v1alpha1.RolloutPhaseProgressing || m != "waiting for rollout spec update to be observed" {
		t.Errorf("unobserved: %s %s", p, m)
	}
	ro.Status.ObservedGeneration = "3"
	ro.Status.Phase, ro.Status.Message = v1alpha1.RolloutPhaseHealthy, ""
	if p, _ := Phase(ro); p != v1alpha1.RolloutPhaseHealthy {
		t.Errorf("controller phase wins: %s", p)
	}
}

func TestEffectiveCountAndTimeLeft(t *testing.T) {
	five := intstr.FromInt32(5)
	if n, ok := EffectiveCount(v1alpha1.Metric{}); n != 1 || !ok {
		t.Error("no interval is one measurement")
	}
	if _, ok := EffectiveCount(v1alpha1.Metric{Interval: "1m"}); ok {
		t.Error("interval without count is unbounded")
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fin := metav1.NewTime(now.Add(-20 * time.Second))
	run := &v1alpha1.AnalysisRun{Status: v1alpha1.AnalysisRunStatus{Phase: v1alpha1.AnalysisPhaseRunning}}
	m := v1alpha1.Metric{Name: "m", Interval: "1m", Count: &five}
	mr := &v1alpha1.MetricResult{Phase: v1alpha1.AnalysisPhaseRunning, Measurements: []v1alpha1.Measurement{{FinishedAt: &fin}, {FinishedAt: &fin}}}
	if got := timeLeft(run, m, mr, now); got != "2m40s" {
		t.Errorf("time left %q", got)
	}
}

func TestArgRefsAndSubstitute(t *testing.T) {
	q := `rate(x{service="{{args.service-name}}", env="{{ args.env }}"}[5m])`
	if refs := ArgRefs(q); len(refs) != 2 || refs[0] != "service-name" || refs[1] != "env" {
		t.Errorf("refs %v", refs)
	}
	if got := Substitute(q, map[string]string{"service-name": "mllp", "env": "prod"}); got != `rate(x{service="mllp", env="prod"}[5m])` {
		t.Errorf("substitute %q", got)
	}
}
