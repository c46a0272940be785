package rollout

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// TestStatusPatchKeepsFieldsNerveDoesNotOwn: applied to a stored status that carries Argo-only
// fields (blueGreen-era alb, canary.stablePingPong, canary.stepPluginStatuses), nerve's patch
// changes its own fields, removes the ones it cleared and leaves the others as they were.
func TestStatusPatchKeepsFieldsNerveDoesNotOwn(t *testing.T) {
	old := v1alpha1.RolloutStatus{Phase: v1alpha1.RolloutPhaseProgressing, CurrentStepIndex: ptr.To[int32](1),
		PauseConditions: []v1alpha1.PauseCondition{{Reason: "CanaryPauseStep"}}}
	updated := *old.DeepCopy()
	updated.Phase, updated.CurrentStepIndex, updated.PauseConditions = v1alpha1.RolloutPhaseHealthy, ptr.To[int32](2), nil
	patch, err := statusPatch(old, updated, "42")
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]any{}
	if err := json.Unmarshal([]byte(`{"metadata":{"name":"web","resourceVersion":"42"},"status":{
		"phase":"Progressing","currentStepIndex":1,"pauseConditions":[{"reason":"CanaryPauseStep"}],
		"alb":{"loadBalancer":{"name":"lb"}},
		"canary":{"stablePingPong":"ping","stepPluginStatuses":[{"name":"p","index":0}]}}}`), &stored); err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(patch, &p); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(mergeJSON(stored, p)["status"])
	want := `{"alb":{"loadBalancer":{"name":"lb"}},"canary":{"stablePingPong":"ping","stepPluginStatuses":[{"index":0,"name":"p"}]},"currentStepIndex":2,"phase":"Healthy"}`
	if string(got) != want {
		t.Fatalf("status after the patch\n got %s\nwant %s\npatch %s", got, want, patch)
	}
	if !strings.Contains(string(patch), `"resourceVersion":"42"`) {
		t.Fatalf("patch %s has no resourceVersion precondition", patch)
	}
}

// TestPersistPatchesOnlyChangedFields: the controller's status writes are patches of what
// changed, never the whole status.
func TestPersistPatchesOnlyChangedFields(t *testing.T) {
	fx := newSyncFixture(t, syncedRollout(setWeight(25), pauseFor("")))
	fx.api.statusPatches = nil
	fx.toCanary(t)
	if len(fx.api.statusPatches) == 0 {
		t.Fatal("no status patch written")
	}
	for _, p := range fx.api.statusPatches {
		if strings.Contains(p, `"selector"`) || strings.Contains(p, `"stableRS"`) || !strings.Contains(p, `"resourceVersion"`) {
			t.Fatalf("patch rewrites unchanged fields: %s", p)
		}
	}
}

// TestRestartEvictsAndWaitsOnPodDisruptionBudget: restartAt evicts (never deletes) the old pods;
// while a PodDisruptionBudget refuses (429) nothing is restarted and restartedAt stays unset,
// and once it allows the pods are replaced one at a time and restartedAt is set.
func TestRestartEvictsAndWaitsOnPodDisruptionBudget(t *testing.T) {
	fx := newPodsFixture(t, syncedRollout(setWeight(25), pauseFor("")))
	before := len(fx.api.pods)
	fx.now = fx.now.Add(time.Minute)
	at := metav1.NewTime(fx.now)
	fx.edit(t, func(ro *v1alpha1.Rollout) { ro.Spec.RestartAt = &at })
	fx.api.pdbBlocks = true
	for range 5 {
		fx.sync(t)
	}
	if fx.api.evictionsRefused == 0 || fx.rollout(t).Status.RestartedAt != nil {
		t.Fatalf("evictions refused %d, restartedAt %v", fx.api.evictionsRefused, fx.rollout(t).Status.RestartedAt)
	}
	for _, p := range fx.api.pods {
		if p.CreationTimestamp.After(at.Time) || p.CreationTimestamp.Equal(&at) {
			t.Fatalf("pod %s restarted although the PodDisruptionBudget refused", p.Name)
		}
	}
	fx.api.pdbBlocks = false
	for i := 0; i < 40 && fx.rollout(t).Status.RestartedAt == nil; i++ {
		fx.now = fx.now.Add(time.Second)
		fx.sync(t)
	}
	st := fx.rollout(t).Status
	if st.RestartedAt == nil || !st.RestartedAt.Equal(&at) {
		t.Fatalf("restartedAt %v, want %v", st.RestartedAt, at)
	}
	if before == 0 {
		t.Fatal("the fixture runs no pods")
	}
	for _, p := range fx.api.pods {
		if p.CreationTimestamp.Before(&at) {
			t.Fatalf("pod %s not restarted", p.Name)
		}
	}
	if !fx.events.has("Normal RolloutRestarted Rollout restarted") {
		t.Fatalf("events %q", fx.events.events)
	}
}
