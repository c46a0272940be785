package rollout

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// blueGreenRollout is a blueGreen Rollout of 3 replicas behind web-active and web-preview,
// never reconciled; edit adjusts the strategy.
func blueGreenRollout(edit func(*v1alpha1.BlueGreenStrategy)) *v1alpha1.Rollout {
	ro := syncedRollout()
	ro.Spec.Replicas = ptr.To[int32](3)
	bg := &v1alpha1.BlueGreenStrategy{ActiveService: "web-active", PreviewService: "web-preview"}
	if edit != nil {
		edit(bg)
	}
	ro.Spec.Strategy = v1alpha1.RolloutStrategy{BlueGreen: bg}
	return ro
}

// newBlueGreenFixture seeds the Rollout and its Services (and objs) and brings the first
// revision to Healthy.
func newBlueGreenFixture(t *testing.T, ro *v1alpha1.Rollout, objs ...any) *fixture {
	t.Helper()
	fx := newFixture(t, append([]any{ro, service("web-active", nil), service("web-preview", nil)}, objs...)...)
	fx.settle(t)
	if st := fx.rollout(t).Status; st.Phase != v1alpha1.RolloutPhaseHealthy {
		t.Fatalf("first revision: phase %s %q", st.Phase, st.Message)
	}
	return fx
}

func (fx *fixture) selector(t *testing.T, svc string) string {
	t.Helper()
	s, err := get[*corev1.Service](fx.api.services, "services", "ns", svc)
	if err != nil {
		t.Fatal(err)
	}
	return s.Spec.Selector[v1alpha1.DefaultRolloutUniqueLabelKey]
}

// bgState is what a blueGreen reconcile shows: phase, message, Service selectors and status
// selectors, the stable and the new ReplicaSet's size, pauses.
type bgState struct {
	phase                v1alpha1.RolloutPhase
	message              string
	active, preview      string // "old", "new" or ""
	stable               string // "old" or "new"
	oldReplicas, newReps int32
	paused               bool
	abort                bool
}

func (fx *fixture) bgState(t *testing.T, old, cur string) bgState {
	t.Helper()
	name := func(h string) string {
		switch h {
		case old:
			return "old"
		case cur:
			return "new"
		}
		return h
	}
	st := fx.rollout(t).Status
	if st.BlueGreen.ActiveSelector != fx.selector(t, "web-active") || st.BlueGreen.PreviewSelector != fx.selector(t, "web-preview") {
		t.Fatalf("status selectors %+v differ from the Services' (%q, %q)", st.BlueGreen, fx.selector(t, "web-active"), fx.selector(t, "web-preview"))
	}
	got := bgState{phase: st.Phase, message: st.Message, active: name(st.BlueGreen.ActiveSelector), preview: name(st.BlueGreen.PreviewSelector),
		stable: name(st.StableRS), oldReplicas: replicas(fx.rs(t, old)), paused: hasPause(st.PauseConditions, v1alpha1.PauseReasonBlueGreenPause), abort: st.Abort}
	if cur != old {
		got.newReps = replicas(fx.rs(t, cur))
	}
	return got
}

func TestSyncBlueGreenFirstRevision(t *testing.T) {
	fx := newBlueGreenFixture(t, blueGreenRollout(nil))
	st := fx.rollout(t).Status
	h := st.CurrentPodHash
	if got, want := fx.bgState(t, h, h), (bgState{phase: v1alpha1.RolloutPhaseHealthy, active: "old", preview: "old", stable: "old", oldReplicas: 3}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if st.Selector != "app=web,rollouts-pod-template-hash="+h || st.HPAReplicas != 3 || st.AvailableReplicas != 3 || st.CurrentStepIndex != nil || st.CurrentStepHash != "" {
		t.Fatalf("status %+v", st)
	}
	if c := getCond(&st, v1alpha1.RolloutHealthy); c == nil || c.Status != corev1.ConditionTrue {
		t.Fatalf("Healthy condition %+v", c)
	}
	writes := fx.api.writes
	if after := fx.sync(t); fx.api.writes != writes || after != 0 {
		t.Fatalf("a sync of a settled Rollout wrote %d objects and asked for a requeue in %s", fx.api.writes-writes, after)
	}
}

// TestSyncBlueGreenPromotion: a new revision is previewed, then promoted automatically, after
// autoPromotionSeconds, or by the user; the old ReplicaSet stays up for scaleDownDelaySeconds.
func TestSyncBlueGreenPromotion(t *testing.T) {
	promote := func(fx *fixture, t *testing.T) {
		fx.editStatus(t, func(st *v1alpha1.RolloutStatus) { st.PauseConditions = nil })
	}
	for _, c := range []struct {
		name    string
		edit    func(*v1alpha1.BlueGreenStrategy)
		paused  bgState // right after the update settles
		act     func(*fixture, *testing.T)
		wait    time.Duration
		after   bgState // after act and wait
		requeue time.Duration
	}{
		{name: "auto-promotion", paused: bgState{phase: v1alpha1.RolloutPhaseHealthy, active: "new", preview: "new", stable: "new", oldReplicas: 3, newReps: 3},
			wait: 31 * time.Second, after: bgState{phase: v1alpha1.RolloutPhaseHealthy, active: "new", preview: "new", stable: "new", oldReplicas: 0, newReps: 3}, requeue: 30 * time.Second},
		{name: "autoPromotionSeconds not yet", edit: func(bg *v1alpha1.BlueGreenStrategy) { bg.AutoPromotionSeconds = 20 },
			paused: bgState{phase: v1alpha1.RolloutPhasePaused, message: "BlueGreenPause", active: "old", preview: "new", stable: "old", oldReplicas: 3, newReps: 3, paused: true},
			wait:   19 * time.Second, after: bgState{phase: v1alpha1.RolloutPhasePaused, message: "BlueGreenPause", active: "old", preview: "new", stable: "old", oldReplicas: 3, newReps: 3, paused: true}, requeue: 20 * time.Second},
		{name: "autoPromotionSeconds passed", edit: func(bg *v1alpha1.BlueGreenStrategy) { bg.AutoPromotionSeconds = 20 },
			paused: bgState{phase: v1alpha1.RolloutPhasePaused, message: "BlueGreenPause", active: "old", preview: "new", stable: "old", oldReplicas: 3, newReps: 3, paused: true},
			wait:   21 * time.Second, after: bgState{phase: v1alpha1.RolloutPhaseHealthy, active: "new", preview: "new", stable: "new", oldReplicas: 3, newReps: 3}, requeue: 20 * time.Second},
		{name: "manual promote", edit: func(bg *v1alpha1.BlueGreenStrategy) { bg.AutoPromotionEnabled = ptr.To(false) },
			paused: bgState{phase: v1alpha1.RolloutPhasePaused, message: "BlueGreenPause", active: "old", preview: "new", stable: "old", oldReplicas: 3, newReps: 3, paused: true},
			act:    promote, after: bgState{phase: v1alpha1.RolloutPhaseHealthy, active: "new", preview: "new", stable: "new", oldReplicas: 3, newReps: 3}},
		{name: "manual: waits without promote", edit: func(bg *v1alpha1.BlueGreenStrategy) { bg.AutoPromotionEnabled = ptr.To(false) },
			paused: bgState{phase: v1alpha1.RolloutPhasePaused, message: "BlueGreenPause", active: "old", preview: "new", stable: "old", oldReplicas: 3, newReps: 3, paused: true},
			wait:   time.Hour, after: bgState{phase: v1alpha1.RolloutPhasePaused, message: "BlueGreenPause", active: "old", preview: "new", stable: "old", oldReplicas: 3, newReps: 3, paused: true}},
		{name: "previewReplicaCount then promote", edit: func(bg *v1alpha1.BlueGreenStrategy) {
			bg.AutoPromotionEnabled, bg.PreviewReplicaCount = ptr.To(false), ptr.To[int32](1)
		},
			paused: bgState{phase: v1alpha1.RolloutPhasePaused, message: "BlueGreenPause", active: "old", preview: "new", stable: "old", oldReplicas: 3, newReps: 1, paused: true},
			act:    promote, after: bgState{phase: v1alpha1.RolloutPhaseHealthy, active: "new", preview: "new", stable: "new", oldReplicas: 3, newReps: 3}},
		{name: "scaleDownDelaySeconds", edit: func(bg *v1alpha1.BlueGreenStrategy) { bg.ScaleDownDelaySeconds = ptr.To[int32](5) },
			paused: bgState{phase: v1alpha1.RolloutPhaseHealthy, active: "new", preview: "new", stable: "new", oldReplicas: 3, newReps: 3},
			wait:   6 * time.Second, after: bgState{phase: v1alpha1.RolloutPhaseHealthy, active: "new", preview: "new", stable: "new", oldReplicas: 0, newReps: 3}, requeue: 5 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			fx := newBlueGreenFixture(t, blueGreenRollout(c.edit))
			old := fx.rollout(t).Status.StableRS
			fx.edit(t, newImage)
			requeue := fx.settle(t)
			cur := fx.rollout(t).Status.CurrentPodHash
			if got := fx.bgState(t, old, cur); got != c.paused {
				t.Fatalf("after the update: got %+v, want %+v", got, c.paused)
			}
			if c.requeue != 0 && (requeue > c.requeue+time.Second || requeue < c.requeue) {
				t.Fatalf("requeue in %s, want about %s", requeue, c.requeue)
			}
			if c.act != nil {
				c.act(fx, t)
			}
			fx.now = fx.now.Add(c.wait)
			fx.settle(t)
			if got := fx.bgState(t, old, cur); got != c.after {
				t.Fatalf("after: got %+v, want %+v", got, c.after)
			}
		})
	}
}

func TestSyncBlueGreenPauseAndPromoteStatus(t *testing.T) {
	fx := newBlueGreenFixture(t, blueGreenRollout(func(bg *v1alpha1.BlueGreenStrategy) { bg.AutoPromotionEnabled = ptr.To(false) }))
	old := fx.rollout(t).Status.StableRS
	fx.edit(t, newImage)
	fx.settle(t)
	st := fx.rollout(t).Status
	cond := pauseCond(st.PauseConditions, v1alpha1.PauseReasonBlueGreenPause)
	if cond == nil || !st.ControllerPause || !cond.StartTime.Equal(&metav1.Time{Time: fx.now}) {
		t.Fatalf("pause %+v controllerPause %v", st.PauseConditions, st.ControllerPause)
	}
	// while previewed, the status counts the active (old) ReplicaSet, as Argo's does
	if st.Selector != "app=web,rollouts-pod-template-hash="+old || st.AvailableReplicas != 3 || st.HPAReplicas != 3 || st.Replicas != 6 || st.UpdatedReplicas != 3 {
		t.Fatalf("status while previewed %+v", st)
	}
	fx.editStatus(t, func(st *v1alpha1.RolloutStatus) { st.PauseConditions = nil })
	fx.settle(t)
	st = fx.rollout(t).Status
	if st.ControllerPause || st.PauseConditions != nil || st.StableRS != st.CurrentPodHash {
		t.Fatalf("after promote: %+v", st)
	}
	for _, ev := range []string{
		"Normal RolloutPaused Rollout is paused (BlueGreenPause)",
		"Normal SwitchService Switched selector for service 'web-preview' from '" + old + "' to '" + st.CurrentPodHash + "'",
		"Normal SwitchService Switched selector for service 'web-active' from '" + old + "' to '" + st.CurrentPodHash + "'",
		"Normal RolloutCompleted Rollout completed update to revision 2 (" + st.CurrentPodHash + "): Completed blue-green update",
	} {
		if !fx.events.has(ev) {
			t.Errorf("no event %q in %q", ev, fx.events.events)
		}
	}
	if d := fx.rs(t, old).Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey]; d != fx.now.Add(30*time.Second).UTC().Format(time.RFC3339) {
		t.Fatalf("old ReplicaSet scale-down-deadline %q", d)
	}
}

// analysisTemplate is a one-metric template on the fake metric plugin.
func analysisTemplate(name string) *v1alpha1.AnalysisTemplate {
	return &v1alpha1.AnalysisTemplate{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: v1alpha1.AnalysisTemplateSpec{Metrics: []v1alpha1.Metric{{Name: "m",
			Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"fake/metric": json.RawMessage(`{}`)}}}}}}
}

// finishRun sets the named run's phase as its engine would.
func (fx *fixture) finishRun(t *testing.T, name string, phase v1alpha1.AnalysisPhase, msg string) {
	t.Helper()
	run, err := get[*v1alpha1.AnalysisRun](fx.api.runs, "analysisruns", "ns", name)
	if err != nil {
		t.Fatal(err)
	}
	done := run.DeepCopy()
	done.Status.Phase, done.Status.Message = phase, msg
	if err := fx.api.runs.Update(done); err != nil {
		t.Fatal(err)
	}
}

const runFailedMsg = `Metric "m" assessed Failed due to failed (1) > failureLimit (0)`

// TestSyncBlueGreenAnalysis: pre-promotion analysis gates the switch (failure aborts before
// it), post-promotion analysis gates the new stable (failure aborts and switches the active
// Service back); after an abort the new ReplicaSet goes after abortScaleDownDelaySeconds.
func TestSyncBlueGreenAnalysis(t *testing.T) {
	ref := &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "gate"}}}
	for _, c := range []struct {
		name    string
		post    bool
		phase   v1alpha1.AnalysisPhase
		running bgState // while the run runs
		done    bgState // after it finished
		later   bgState // 31s later
	}{
		{name: "pre-promotion success", phase: v1alpha1.AnalysisPhaseSuccessful,
			running: bgState{phase: v1alpha1.RolloutPhaseProgressing, message: "active service cutover pending", active: "old", preview: "new", stable: "old", oldReplicas: 3, newReps: 3},
			done:    bgState{phase: v1alpha1.RolloutPhaseHealthy, active: "new", preview: "new", stable: "new", oldReplicas: 3, newReps: 3},
			later:   bgState{phase: v1alpha1.RolloutPhaseHealthy, active: "new", preview: "new", stable: "new", oldReplicas: 0, newReps: 3}},
		{name: "pre-promotion failure", phase: v1alpha1.AnalysisPhaseFailed,
			running: bgState{phase: v1alpha1.RolloutPhaseProgressing, message: "active service cutover pending", active: "old", preview: "new", stable: "old", oldReplicas: 3, newReps: 3},
			done: bgState{phase: v1alpha1.RolloutPhaseDegraded, message: "RolloutAborted: Rollout aborted update to revision 2: Blue/green pre-promotion analysis phase error/failed: " + runFailedMsg,
				active: "old", preview: "new", stable: "old", oldReplicas: 3, newReps: 3, abort: true},
			later: bgState{phase: v1alpha1.RolloutPhaseDegraded, message: "RolloutAborted: Rollout aborted update to revision 2: Blue/green pre-promotion analysis phase error/failed: " + runFailedMsg,
				active: "old", preview: "new", stable: "old", oldReplicas: 3, newReps: 0, abort: true}},
		{name: "post-promotion success", post: true, phase: v1alpha1.AnalysisPhaseSuccessful,
			running: bgState{phase: v1alpha1.RolloutPhaseProgressing, message: "waiting for analysis to complete", active: "new", preview: "new", stable: "old", oldReplicas: 3, newReps: 3},
			done:    bgState{phase: v1alpha1.RolloutPhaseHealthy, active: "new", preview: "new", stable: "new", oldReplicas: 3, newReps: 3},
			later:   bgState{phase: v1alpha1.RolloutPhaseHealthy, active: "new", preview: "new", stable: "new", oldReplicas: 0, newReps: 3}},
		{name: "post-promotion failure aborts and reverts", post: true, phase: v1alpha1.AnalysisPhaseFailed,
			running: bgState{phase: v1alpha1.RolloutPhaseProgressing, message: "waiting for analysis to complete", active: "new", preview: "new", stable: "old", oldReplicas: 3, newReps: 3},
			done: bgState{phase: v1alpha1.RolloutPhaseDegraded, message: "RolloutAborted: Rollout aborted update to revision 2: Blue/green post-promotion analysis phase error/failed: " + runFailedMsg,
				active: "old", preview: "new", stable: "old", oldReplicas: 3, newReps: 3, abort: true},
			later: bgState{phase: v1alpha1.RolloutPhaseDegraded, message: "RolloutAborted: Rollout aborted update to revision 2: Blue/green post-promotion analysis phase error/failed: " + runFailedMsg,
				active: "old", preview: "new", stable: "old", oldReplicas: 3, newReps: 0, abort: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fx := newBlueGreenFixture(t, blueGreenRollout(func(bg *v1alpha1.BlueGreenStrategy) {
				if c.post {
					bg.PostPromotionAnalysis = ref
				} else {
					bg.PrePromotionAnalysis = ref
				}
			}), analysisTemplate("gate"))
			if n := len(fx.api.runs.List()); n != 0 {
				t.Fatalf("%d runs for the first revision", n)
			}
			old := fx.rollout(t).Status.StableRS
			fx.edit(t, newImage)
			fx.settle(t)
			st := fx.rollout(t).Status
			cur := st.CurrentPodHash
			if got := fx.bgState(t, old, cur); got != c.running {
				t.Fatalf("while running: got %+v, want %+v", got, c.running)
			}
			infix, typ, rs := "pre", v1alpha1.RolloutTypePrePromotionLabel, st.BlueGreen.PrePromotionAnalysisRunStatus
			if c.post {
				infix, typ, rs = "post", v1alpha1.RolloutTypePostPromotionLabel, st.BlueGreen.PostPromotionAnalysisRunStatus
			}
			name := "web-" + cur + "-2-" + infix
			if rs == nil || rs.Name != name {
				t.Fatalf("run status %+v, want %s", rs, name)
			}
			run, err := get[*v1alpha1.AnalysisRun](fx.api.runs, "analysisruns", "ns", name)
			if err != nil {
				t.Fatal(err)
			}
			if run.Labels[v1alpha1.RolloutTypeLabel] != typ || run.Labels[v1alpha1.DefaultRolloutUniqueLabelKey] != cur {
				t.Fatalf("run labels %v", run.Labels)
			}
			fx.finishRun(t, name, c.phase, map[bool]string{true: runFailedMsg}[c.phase == v1alpha1.AnalysisPhaseFailed])
			fx.settle(t)
			if got := fx.bgState(t, old, cur); got != c.done {
				t.Fatalf("after the run: got %+v, want %+v", got, c.done)
			}
			fx.now = fx.now.Add(31 * time.Second)
			fx.settle(t)
			if got := fx.bgState(t, old, cur); got != c.later {
				t.Fatalf("31s later: got %+v, want %+v", got, c.later)
			}
		})
	}
}

// TestSyncBlueGreenRetryAfterPrePromotionFailure: retry starts a new pre-promotion run (Argo's
// collision-counted name) and its success promotes.
func TestSyncBlueGreenRetryAfterPrePromotionFailure(t *testing.T) {
	fx := newBlueGreenFixture(t, blueGreenRollout(func(bg *v1alpha1.BlueGreenStrategy) {
		bg.PrePromotionAnalysis = &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "gate"}}}
	}), analysisTemplate("gate"))
	fx.edit(t, newImage)
	fx.settle(t)
	cur := fx.rollout(t).Status.CurrentPodHash
	fx.finishRun(t, "web-"+cur+"-2-pre", v1alpha1.AnalysisPhaseFailed, runFailedMsg)
	fx.settle(t)
	fx.editStatus(t, func(st *v1alpha1.RolloutStatus) { st.Abort = false })
	fx.settle(t)
	st := fx.rollout(t).Status
	if st.Abort || st.BlueGreen.PrePromotionAnalysisRunStatus == nil || st.BlueGreen.PrePromotionAnalysisRunStatus.Name != "web-"+cur+"-2-pre.1" {
		t.Fatalf("after retry: %+v", st)
	}
	fx.finishRun(t, "web-"+cur+"-2-pre.1", v1alpha1.AnalysisPhaseSuccessful, "")
	fx.settle(t)
	if st := fx.rollout(t).Status; st.StableRS != cur || st.Phase != v1alpha1.RolloutPhaseHealthy || fx.selector(t, "web-active") != cur {
		t.Fatalf("after the retried run: %+v", st)
	}
}

// TestSyncBlueGreenActiveWaitsForAvailability: the active Service never points at a ReplicaSet
// whose pods are not all available.
func TestSyncBlueGreenActiveWaitsForAvailability(t *testing.T) {
	fx := newBlueGreenFixture(t, blueGreenRollout(nil))
	old := fx.rollout(t).Status.StableRS
	fx.api.readyPods = false
	fx.edit(t, newImage)
	fx.settle(t)
	cur := fx.rollout(t).Status.CurrentPodHash
	if got := fx.selector(t, "web-active"); got != old {
		t.Fatalf("active Service on %q before the new pods are available", got)
	}
	rs := fx.rs(t, cur)
	rs.Status.Replicas, rs.Status.AvailableReplicas = 3, 2
	if err := fx.api.replicaSets.Update(rs); err != nil {
		t.Fatal(err)
	}
	fx.settle(t)
	if got := fx.selector(t, "web-active"); got != old {
		t.Fatalf("active Service on %q with 2/3 new pods available", got)
	}
	rs = fx.rs(t, cur)
	rs.Status.AvailableReplicas = 3
	if err := fx.api.replicaSets.Update(rs); err != nil {
		t.Fatal(err)
	}
	fx.settle(t)
	if got := fx.selector(t, "web-active"); got != cur {
		t.Fatalf("active Service on %q once all new pods are available", got)
	}
}

// TestSyncBlueGreenScaleDownDelayRevisionLimit: beyond the limit, older ReplicaSets are scaled
// down at once instead of waiting for their deadline.
func TestSyncBlueGreenScaleDownDelayRevisionLimit(t *testing.T) {
	fx := newBlueGreenFixture(t, blueGreenRollout(func(bg *v1alpha1.BlueGreenStrategy) { bg.ScaleDownDelayRevisionLimit = ptr.To[int32](1) }))
	v1 := fx.rollout(t).Status.StableRS
	fx.edit(t, newImage)
	fx.settle(t)
	v2 := fx.rollout(t).Status.CurrentPodHash
	fx.edit(t, func(ro *v1alpha1.Rollout) { ro.Spec.Template.Spec.Containers[0].Image = "web:3" })
	fx.settle(t)
	if n1, n2 := replicas(fx.rs(t, v1)), replicas(fx.rs(t, v2)); n1 != 0 || n2 != 3 {
		t.Fatalf("v1 at %d, v2 at %d replicas; want v1 scaled down at once (limit 1), v2 delayed", n1, n2)
	}
}

// TestSyncBlueGreenMetadata: previewMetadata on the previewed ReplicaSet and its pods,
// activeMetadata on the active one; on promotion the new pods switch to activeMetadata.
func TestSyncBlueGreenMetadata(t *testing.T) {
	ro := blueGreenRollout(func(bg *v1alpha1.BlueGreenStrategy) {
		bg.AutoPromotionEnabled = ptr.To(false)
		bg.PreviewMetadata = &v1alpha1.PodTemplateMetadata{Labels: map[string]string{"role": "preview"}}
		bg.ActiveMetadata = &v1alpha1.PodTemplateMetadata{Labels: map[string]string{"role": "active"}}
	})
	fx := newFixture(t, ro, service("web-active", nil), service("web-preview", nil))
	fx.api.runPods = true
	fx.settle(t)
	v1 := fx.rollout(t).Status.StableRS
	if got := strings.Join(fx.podLabels(t, fx.rs(t, v1), "role"), ";"); got != strings.Join(repeat("role=active", 3), ";") {
		t.Fatalf("first revision pods %v", got)
	}
	fx.edit(t, newImage)
	fx.settle(t)
	v2 := fx.rollout(t).Status.CurrentPodHash
	if got := strings.Join(fx.podLabels(t, fx.rs(t, v2), "role"), ";"); got != strings.Join(repeat("role=preview", 3), ";") {
		t.Fatalf("previewed pods %v", got)
	}
	fx.editStatus(t, func(st *v1alpha1.RolloutStatus) { st.PauseConditions = nil })
	fx.settle(t)
	if got := strings.Join(fx.podLabels(t, fx.rs(t, v2), "role"), ";"); got != strings.Join(repeat("role=active", 3), ";") {
		t.Fatalf("promoted pods %v", got)
	}
	if got := strings.Join(fx.podLabels(t, fx.rs(t, v1), "role"), ";"); got != strings.Join(repeat("", 3), ";") {
		t.Fatalf("old active pods %v (scale-down delay keeps them, without injected metadata)", got)
	}
}

// TestSyncBlueGreenAntiAffinity: a new ReplicaSet gets Argo's injected anti-affinity term against
// the stable ReplicaSet's pods; the first one (no stable yet) does not.
func TestSyncBlueGreenAntiAffinity(t *testing.T) {
	fx := newBlueGreenFixture(t, blueGreenRollout(func(bg *v1alpha1.BlueGreenStrategy) {
		bg.AntiAffinity = &v1alpha1.AntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: &v1alpha1.PreferredDuringSchedulingIgnoredDuringExecution{Weight: 40}}
	}))
	v1 := fx.rollout(t).Status.StableRS
	if a := fx.rs(t, v1).Spec.Template.Spec.Affinity; a != nil {
		t.Fatalf("first ReplicaSet affinity %+v", a)
	}
	fx.edit(t, newImage)
	fx.settle(t)
	a := fx.rs(t, fx.rollout(t).Status.CurrentPodHash).Spec.Template.Spec.Affinity
	if a == nil || a.PodAntiAffinity == nil || len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Fatalf("new ReplicaSet affinity %+v", a)
	}
	term := a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0]
	req := term.PodAffinityTerm.LabelSelector.MatchExpressions[0]
	if term.Weight != 40 || term.PodAffinityTerm.TopologyKey != "kubernetes.io/hostname" || req.Key != v1alpha1.DefaultRolloutUniqueLabelKey ||
		req.Operator != metav1.LabelSelectorOpIn || len(req.Values) != 1 || req.Values[0] != v1 {
		t.Fatalf("injected term %+v", term)
	}
}

// TestSyncBlueGreenFastRollback: going back to the previous template while its ReplicaSet is
// still up within its scale-down delay skips the pause and switches back at once.
func TestSyncBlueGreenFastRollback(t *testing.T) {
	fx := newBlueGreenFixture(t, blueGreenRollout(func(bg *v1alpha1.BlueGreenStrategy) { bg.AutoPromotionEnabled = ptr.To(false) }))
	v1 := fx.rollout(t).Status.StableRS
	fx.now = fx.now.Add(time.Second)
	fx.edit(t, newImage)
	fx.settle(t)
	fx.editStatus(t, func(st *v1alpha1.RolloutStatus) { st.PauseConditions = nil })
	fx.settle(t)
	v2 := fx.rollout(t).Status.StableRS
	if v2 == v1 {
		t.Fatal("v2 not promoted")
	}
	fx.edit(t, func(ro *v1alpha1.Rollout) { ro.Spec.Template.Spec.Containers[0].Image = "web:1" })
	fx.settle(t)
	st := fx.rollout(t).Status
	if st.CurrentPodHash != v1 || st.StableRS != v1 || fx.selector(t, "web-active") != v1 || len(st.PauseConditions) != 0 || st.Phase != v1alpha1.RolloutPhaseHealthy {
		t.Fatalf("after the rollback: %+v", st)
	}
	if !fx.events.has("Normal RolloutCompleted Rollout completed update to revision 3 (" + v1 + "): Fast rollback") {
		t.Fatalf("events %q", fx.events.events)
	}
}

// TestSyncBlueGreenAntiAffinityFollowsStable: an existing new ReplicaSet whose injected term names
// an older stable is re-targeted at the current stable.
func TestSyncBlueGreenAntiAffinityFollowsStable(t *testing.T) {
	fx := newBlueGreenFixture(t, blueGreenRollout(func(bg *v1alpha1.BlueGreenStrategy) {
		bg.AntiAffinity = &v1alpha1.AntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1alpha1.RequiredDuringSchedulingIgnoredDuringExecution{}}
		bg.AutoPromotionEnabled = ptr.To(false)
	}))
	fx.edit(t, newImage)
	fx.settle(t)
	v2 := fx.rollout(t).Status.CurrentPodHash
	// pretend v2 was created against another stable
	rs := fx.rs(t, v2)
	rs.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchExpressions[0].Values = []string{"gone"}
	if err := fx.api.replicaSets.Update(rs); err != nil {
		t.Fatal(err)
	}
	fx.settle(t)
	terms := fx.rs(t, v2).Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	if len(terms) != 1 || terms[0].LabelSelector.MatchExpressions[0].Values[0] != fx.rollout(t).Status.StableRS {
		t.Fatalf("terms %+v, want one naming the stable %s", terms, fx.rollout(t).Status.StableRS)
	}
}
