package rules

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

func TestPhase(t *testing.T) {
	healthy := v1alpha1.RolloutStatus{Replicas: 4, UpdatedReplicas: 4, AvailableReplicas: 4, StableRS: "a", CurrentPodHash: "a"}
	with := func(edit func(st *v1alpha1.RolloutStatus)) v1alpha1.RolloutStatus {
		st := *healthy.DeepCopy()
		edit(&st)
		return st
	}
	tests := []struct {
		name  string
		st    v1alpha1.RolloutStatus
		phase v1alpha1.RolloutPhase
		msg   string
	}{
		{"healthy", healthy, v1alpha1.RolloutPhaseHealthy, ""},
		{"invalid", with(func(st *v1alpha1.RolloutStatus) {
			st.Conditions = []v1alpha1.RolloutCondition{{Type: v1alpha1.InvalidSpec, Status: corev1.ConditionTrue, Message: "bad"}}
		}), v1alpha1.RolloutPhaseDegraded, "InvalidSpec: bad"},
		{"aborted", with(func(st *v1alpha1.RolloutStatus) {
			st.Conditions = []v1alpha1.RolloutCondition{{Type: v1alpha1.RolloutProgressing, Reason: ReasonRolloutAborted, Message: "m"}}
		}), v1alpha1.RolloutPhaseDegraded, "RolloutAborted: m"},
		{"paused", with(func(st *v1alpha1.RolloutStatus) {
			st.PauseConditions = []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonCanaryPauseStep}}
		}), v1alpha1.RolloutPhasePaused, "CanaryPauseStep"},
		{"updating", with(func(st *v1alpha1.RolloutStatus) { st.UpdatedReplicas = 3 }), v1alpha1.RolloutPhaseProgressing, "more replicas need to be updated"},
		{"available", with(func(st *v1alpha1.RolloutStatus) { st.AvailableReplicas = 3 }), v1alpha1.RolloutPhaseProgressing, "updated replicas are still becoming available"},
		{"old pods", with(func(st *v1alpha1.RolloutStatus) { st.Replicas = 5 }), v1alpha1.RolloutPhaseProgressing, "old replicas are pending termination"},
		{"steps", with(func(st *v1alpha1.RolloutStatus) { st.CurrentPodHash = "b" }), v1alpha1.RolloutPhaseProgressing, "waiting for all steps to complete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ro := valid(func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.Canary.TrafficRouting = nil })
			p, m := Phase(ro, tt.st)
			if p != tt.phase || m != tt.msg {
				t.Fatalf("got %s %q, want %s %q", p, m, tt.phase, tt.msg)
			}
		})
	}
}

func TestObservedPhaseWaitsForTheController(t *testing.T) {
	ro := valid(nil)
	ro.Generation = 3
	ro.Status.ObservedGeneration = "2"
	ro.Status.Phase = v1alpha1.RolloutPhaseHealthy
	if p, m := ObservedPhase(ro); p != v1alpha1.RolloutPhaseProgressing || m != "waiting for rollout spec update to be observed" {
		t.Fatalf("got %s %q", p, m)
	}
	ro.Status.ObservedGeneration = "3"
	if p, _ := ObservedPhase(ro); p != v1alpha1.RolloutPhaseHealthy {
		t.Fatalf("got %s, want the controller's phase", p)
	}
}

func TestPhaseBlueGreen(t *testing.T) {
	healthy := v1alpha1.RolloutStatus{Replicas: 4, UpdatedReplicas: 2, AvailableReplicas: 2, StableRS: "a", CurrentPodHash: "a",
		BlueGreen: v1alpha1.BlueGreenStatus{ActiveSelector: "a", PreviewSelector: "a"}}
	with := func(edit func(st *v1alpha1.RolloutStatus)) v1alpha1.RolloutStatus {
		st := *healthy.DeepCopy()
		edit(&st)
		return st
	}
	tests := []struct {
		name  string
		post  bool
		st    v1alpha1.RolloutStatus
		phase v1alpha1.RolloutPhase
		msg   string
	}{
		{"healthy with old replicas still up (scale-down delay)", false, healthy, v1alpha1.RolloutPhaseHealthy, ""},
		{"preview", false, with(func(st *v1alpha1.RolloutStatus) { st.CurrentPodHash = "b" }), v1alpha1.RolloutPhaseProgressing, "active service cutover pending"},
		{"first deploy", false, with(func(st *v1alpha1.RolloutStatus) { st.BlueGreen.ActiveSelector = "" }), v1alpha1.RolloutPhaseProgressing, "active service cutover pending"},
		{"post-promotion running", true, with(func(st *v1alpha1.RolloutStatus) {
			st.CurrentPodHash, st.BlueGreen.ActiveSelector = "b", "b"
			st.BlueGreen.PostPromotionAnalysisRunStatus = &v1alpha1.RolloutAnalysisRunStatus{Name: "r", Status: v1alpha1.AnalysisPhaseRunning}
		}), v1alpha1.RolloutPhaseProgressing, "waiting for analysis to complete"},
		{"switched, not yet stable", false, with(func(st *v1alpha1.RolloutStatus) { st.CurrentPodHash, st.BlueGreen.ActiveSelector = "b", "b" }),
			v1alpha1.RolloutPhaseProgressing, "waiting for post-promotion verification to complete"},
		{"paused", false, with(func(st *v1alpha1.RolloutStatus) {
			st.CurrentPodHash = "b"
			st.PauseConditions = []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonBlueGreenPause}}
		}), v1alpha1.RolloutPhasePaused, "BlueGreenPause"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ro := valid(nil)
			ro.Spec.Replicas = ptrInt32(2)
			ro.Spec.Strategy = v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{ActiveService: "stable", PreviewService: "canary"}}
			if tt.post {
				ro.Spec.Strategy.BlueGreen.PostPromotionAnalysis = &v1alpha1.RolloutAnalysis{}
			}
			p, m := Phase(ro, tt.st)
			if p != tt.phase || m != tt.msg {
				t.Fatalf("got %s %q, want %s %q", p, m, tt.phase, tt.msg)
			}
		})
	}
}

func ptrInt32(v int32) *int32 { return &v }
