package actions

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

func ptr[T any](v T) *T { return &v }

func pausedCanary() *v1alpha1.Rollout {
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "mllp-listener"},
		Spec: v1alpha1.RolloutSpec{Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{Steps: []v1alpha1.CanaryStep{
			{SetWeight: ptr(int32(5))},
			{Pause: &v1alpha1.RolloutPause{Duration: ptr(intstr.FromString("5m"))}},
			{Analysis: &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "mllp-health-check"}}}},
			{SetWeight: ptr(int32(25))},
			{Pause: &v1alpha1.RolloutPause{}},
			{SetWeight: ptr(int32(100))},
		}}}},
		Status: v1alpha1.RolloutStatus{
			PauseConditions: []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonCanaryPauseStep}},
			ControllerPause: true, CurrentPodHash: "canary", StableRS: "stable", CurrentStepIndex: ptr(int32(1)),
		},
	}
}

func TestPromoteStepPatches(t *testing.T) {
	ro := pausedCanary()
	ro.Status.PauseConditions = nil
	ro.Status.CurrentStepIndex = ptr(int32(2))
	p := Promote(ro, false)
	if p.Status != `{"status":{"pauseConditions":null, "currentStepIndex":3}}` || p.Unified != `{"spec":{"paused":false},"status":{"pauseConditions":null, "currentStepIndex":3}}` {
		t.Errorf("analysis step promote: %+v", p)
	}
	ro.Spec.Paused = true
	ro.Status.Canary.CurrentStepAnalysisRunStatus = &v1alpha1.RolloutAnalysisRunStatus{Status: v1alpha1.AnalysisPhaseInconclusive}
	ro.Status.PauseConditions = []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonInconclusiveAnalysis}}
	p = Promote(ro, false)
	if p.Spec != PatchUnpause || p.Status != `{"status":{"pauseConditions":null, "controllerPause":false, "currentStepIndex":3}}` {
		t.Errorf("inconclusive promote: %+v", p)
	}
	ro.Status.StableRS = ro.Status.CurrentPodHash
	if p := Promote(ro, true); p.Status != "" || p.Spec != PatchUnpause {
		t.Errorf("full promote when stable: %+v", p)
	}
}

func TestForEveryAction(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	want := map[Name]string{
		ActionPromote:     PatchClearPauseConditions,
		ActionPromoteFull: PatchPromoteFull,
		ActionAbort:       PatchAbort,
		ActionRetry:       PatchRetry,
		ActionPause:       PatchPause,
		ActionResume:      PatchUnpause,
		ActionRestart:     `{"spec":{"restartAt":"2026-11-25T12:00:00Z"}}`,
	}
	for _, n := range Names() {
		p, err := For(n, pausedCanary(), now)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if got := p.Patch.Status + p.Patch.Spec; got != want[n] {
			t.Errorf("%s: patch %q, want %q", n, got, want[n])
		}
		if len(p.Lines) == 0 {
			t.Errorf("%s: no plan", n)
		}
		if parsed, err := Parse(string(n)); err != nil || parsed != n {
			t.Errorf("Parse(%s) = %s, %v", n, parsed, err)
		}
	}
	if _, err := Parse("delete"); err == nil {
		t.Error("Parse(delete) succeeded")
	}
	p, _ := For(ActionPromote, pausedCanary(), now)
	if !strings.Contains(strings.Join(p.Lines, "\n"), "analysis mllp-health-check") {
		t.Errorf("promote plan: %q", p.Lines)
	}
}

func pausedBlueGreen() *v1alpha1.Rollout {
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "fhir"},
		Spec: v1alpha1.RolloutSpec{Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{
			ActiveService: "fhir-active", PreviewService: "fhir-preview", AutoPromotionEnabled: ptr(false),
			PostPromotionAnalysis: &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "smoke"}}},
		}}},
		Status: v1alpha1.RolloutStatus{
			PauseConditions: []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonBlueGreenPause}},
			ControllerPause: true, CurrentPodHash: "new", StableRS: "old",
			BlueGreen: v1alpha1.BlueGreenStatus{ActiveSelector: "old", PreviewSelector: "new"},
		},
	}
}

// TestPromoteBlueGreen: Argo's patches (clear pauseConditions; --full sets promoteFull) and
// a plan that names the Service switch.
func TestPromoteBlueGreen(t *testing.T) {
	ro := pausedBlueGreen()
	if p := Promote(ro, false); p.Status != PatchClearPauseConditions || p.Spec != "" || p.Unified != PatchUnpauseAndClear {
		t.Errorf("promote: %+v", p)
	}
	if p := Promote(ro, true); p.Status != PatchPromoteFull || p.Unified != PatchUnpauseAndPromoteFull {
		t.Errorf("promote --full: %+v", p)
	}
	want := "ends the pause (BlueGreenPause)|the active Service fhir-active switches to the preview ReplicaSet (new)|then the post-promotion analysis decides whether it becomes stable"
	if got := strings.Join(PromotePlan(ro, false), "|"); got != want {
		t.Errorf("plan %q, want %q", got, want)
	}
	want = "skips the pre- and post-promotion analysis|the active Service fhir-active switches to the preview ReplicaSet (new) once it is fully available, and it becomes stable at once"
	if got := strings.Join(PromotePlan(ro, true), "|"); got != want {
		t.Errorf("full plan %q, want %q", got, want)
	}
	ro.Status.PauseConditions, ro.Status.ControllerPause = nil, false
	if p := Promote(ro, false); p.Status != "" || !p.Empty() {
		t.Errorf("promote with nothing paused: %+v (Argo sends no status patch)", p)
	}
	for _, n := range []Name{ActionPromote, ActionAbort, ActionRetry} {
		if p, err := For(n, pausedBlueGreen(), time.Now()); err != nil || len(p.Lines) == 0 {
			t.Errorf("%s on blueGreen: %+v, %v", n, p, err)
		}
	}
}
