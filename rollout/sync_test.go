package rollout

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Sync tests run syncRollout end to end over fakeAPI: they seed objects, change the Rollout as
// a user or kubectl would, sync until the loop settles, and assert on the resulting objects.

const routerName = "fake/router"

func setWeight(w int32) v1alpha1.CanaryStep { return v1alpha1.CanaryStep{SetWeight: ptr.To(w)} }

func pauseFor(d string) v1alpha1.CanaryStep {
	p := &v1alpha1.RolloutPause{}
	if d != "" {
		p.Duration = ptr.To(intstr.FromString(d))
	}
	return v1alpha1.CanaryStep{Pause: p}
}

func analysisStep(template string) v1alpha1.CanaryStep {
	return v1alpha1.CanaryStep{Analysis: &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: template}}}}
}

// syncedRollout is a traffic-routed canary of 4 replicas over the fake router, never reconciled.
func syncedRollout(steps ...v1alpha1.CanaryStep) *v1alpha1.Rollout {
	labels := map[string]string{"app": "web"}
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "ro-uid", Generation: 1, ResourceVersion: "1"},
		Spec: v1alpha1.RolloutSpec{
			Replicas: ptr.To[int32](4),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web:1"}}}},
			Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
				StableService: "web-stable", CanaryService: "web-canary",
				TrafficRouting: &v1alpha1.RolloutTrafficRouting{Plugins: map[string]json.RawMessage{routerName: json.RawMessage(`{}`)}},
				Steps:          steps,
			}},
		},
	}
}

// newSyncFixture seeds the Rollout, its two Services and the router plugin, and brings the
// first revision to Healthy.
func newSyncFixture(t *testing.T, ro *v1alpha1.Rollout, objs ...any) *fixture {
	t.Helper()
	fx := newFixture(t, append([]any{ro, service("web-stable", nil), service("web-canary", nil)}, objs...)...)
	fx.plugins.router(routerName)
	fx.settle(t)
	if st := fx.rollout(t).Status; st.Phase != v1alpha1.RolloutPhaseHealthy {
		t.Fatalf("first revision: phase %s %q", st.Phase, st.Message)
	}
	return fx
}

// sync runs syncRollout as a worker does; a conflict (the cache behind the loop's own write) is
// retried, as the workqueue would.
func (fx *fixture) sync(t *testing.T) time.Duration {
	t.Helper()
	for range 3 {
		after, err := fx.c.syncRollout(context.Background(), cache.ObjectName{Namespace: "ns", Name: "web"})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			t.Fatalf("sync: %v", err)
		}
		return after
	}
	t.Fatal("sync: conflicts every time")
	return 0
}

// settle syncs until a sync writes nothing and asks for no quick requeue: every write would
// trigger another sync through the informers, and a short requeue is the loop moving on. It
// returns the last requeue.
func (fx *fixture) settle(t *testing.T) time.Duration {
	t.Helper()
	for range 100 {
		writes := fx.api.writes
		after := fx.sync(t)
		if fx.api.writes == writes && (after == 0 || after >= time.Second) {
			return after
		}
	}
	t.Fatalf("the loop did not settle; status %+v", fx.rollout(t).Status)
	return 0
}

func (fx *fixture) rollout(t *testing.T) *v1alpha1.Rollout {
	t.Helper()
	ro, err := get[*v1alpha1.Rollout](fx.api.rollouts, "rollouts", "ns", "web")
	if err != nil {
		t.Fatal(err)
	}
	return ro.DeepCopy()
}

// edit changes the stored Rollout as a client would (a spec change bumps the generation).
func (fx *fixture) edit(t *testing.T, change func(*v1alpha1.Rollout)) {
	t.Helper()
	ro := fx.rollout(t)
	change(ro)
	ro.Generation++
	ro.ResourceVersion = nextRV(ro.ResourceVersion)
	if err := fx.api.rollouts.Update(ro); err != nil {
		t.Fatal(err)
	}
}

// newImage ships a new pod template, as `kubectl argo rollouts set image` does.
func newImage(ro *v1alpha1.Rollout) { ro.Spec.Template.Spec.Containers[0].Image = "web:2" }

// rs returns the Rollout's ReplicaSet of a pod hash.
func (fx *fixture) rs(t *testing.T, hash string) *appsv1.ReplicaSet {
	t.Helper()
	rs, err := get[*appsv1.ReplicaSet](fx.api.replicaSets, "replicasets", "ns", "web-"+hash)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func replicas(rs *appsv1.ReplicaSet) int32 { return ptr.Deref(rs.Spec.Replicas, 0) }

func stepIndex(st v1alpha1.RolloutStatus) int32 { return ptr.Deref(st.CurrentStepIndex, -1) }

// toCanary brings a settled Rollout to a new revision and syncs until it settles.
func (fx *fixture) toCanary(t *testing.T) (stable, canary string) {
	t.Helper()
	stable = fx.rollout(t).Status.StableRS
	fx.edit(t, newImage)
	fx.settle(t)
	return stable, fx.rollout(t).Status.CurrentPodHash
}

func TestSyncFirstRevisionIsStableAtOnce(t *testing.T) {
	fx := newSyncFixture(t, syncedRollout(setWeight(25), pauseFor("")))
	st := fx.rollout(t).Status
	if st.StableRS == "" || st.StableRS != st.CurrentPodHash || stepIndex(st) != 2 {
		t.Fatalf("stable %q current %q step %d", st.StableRS, st.CurrentPodHash, stepIndex(st))
	}
	if rs := fx.rs(t, st.StableRS); replicas(rs) != 4 || rs.Annotations[v1alpha1.RevisionAnnotation] != "1" {
		t.Fatalf("ReplicaSet %s: %d replicas, revision %q", rs.Name, replicas(rs), rs.Annotations[v1alpha1.RevisionAnnotation])
	}
	if fx.rollout(t).Annotations[v1alpha1.RevisionAnnotation] != "1" {
		t.Fatalf("rollout revision annotation %v", fx.rollout(t).Annotations)
	}
	writes := fx.api.writes
	if after := fx.sync(t); fx.api.writes != writes || after != 0 {
		t.Fatalf("a sync of a settled Rollout wrote %d objects and asked for a requeue in %s", fx.api.writes-writes, after)
	}
}

func TestSyncNewRevision(t *testing.T) {
	fx := newSyncFixture(t, syncedRollout(setWeight(25), pauseFor("")))
	stable := fx.rollout(t).Status.StableRS
	fx.edit(t, newImage)
	fx.sync(t)
	ro := fx.rollout(t)
	st := ro.Status
	if st.CurrentPodHash == stable || st.StableRS != stable || stepIndex(st) != 0 {
		t.Fatalf("current %q stable %q (was %q) step %d", st.CurrentPodHash, st.StableRS, stable, stepIndex(st))
	}
	rs := fx.rs(t, st.CurrentPodHash)
	if replicas(rs) != 0 || rs.Annotations[v1alpha1.RevisionAnnotation] != "2" || !metav1.IsControlledBy(rs, ro) ||
		rs.Spec.Template.Spec.Containers[0].Image != "web:2" || rs.Spec.Selector.MatchLabels[v1alpha1.DefaultRolloutUniqueLabelKey] != st.CurrentPodHash {
		t.Fatalf("new ReplicaSet %s: %d replicas, annotations %v, owners %v", rs.Name, replicas(rs), rs.Annotations, rs.OwnerReferences)
	}
	if st.Phase != v1alpha1.RolloutPhaseProgressing || st.CurrentStepHash != StepHash(ro) || ro.Annotations[v1alpha1.RevisionAnnotation] != "2" {
		t.Fatalf("phase %s %q, step hash %q, revision %q", st.Phase, st.Message, st.CurrentStepHash, ro.Annotations[v1alpha1.RevisionAnnotation])
	}
	if !fx.events.has("Normal RolloutUpdated Rollout updated to revision 2") {
		t.Fatalf("events %q", fx.events.events)
	}
}

func TestSyncStepsAdvance(t *testing.T) {
	for _, c := range []struct {
		name         string
		steps        []v1alpha1.CanaryStep
		wantStep     int32
		wantWeight   int32
		wantCanaryRS int32
		wantEvent    string
	}{
		{"one setWeight then pause", []v1alpha1.CanaryStep{setWeight(25), pauseFor("")}, 1, 25, 1,
			"Normal RolloutStepCompleted Rollout step 1/2 completed (setWeight: 25)"},
		{"two setWeights then pause", []v1alpha1.CanaryStep{setWeight(25), setWeight(50), pauseFor("")}, 2, 50, 2,
			"Normal RolloutStepCompleted Rollout step 2/3 completed (setWeight: 50)"},
		{"canary replicas round up", []v1alpha1.CanaryStep{setWeight(60), pauseFor("")}, 1, 60, 3,
			"Normal RolloutStepCompleted Rollout step 1/2 completed (setWeight: 60)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fx := newSyncFixture(t, syncedRollout(c.steps...))
			stable, canaryHash := fx.toCanary(t)
			st := fx.rollout(t).Status
			if stepIndex(st) != c.wantStep {
				t.Fatalf("step %d, want %d", stepIndex(st), c.wantStep)
			}
			r := fx.plugins.router(routerName)
			if r.weight != c.wantWeight || r.canaryHash != canaryHash || r.stableHash != stable {
				t.Fatalf("router weight %d hashes %q/%q, want %d %q/%q", r.weight, r.canaryHash, r.stableHash, c.wantWeight, canaryHash, stable)
			}
			w := st.Canary.Weights
			if w == nil || w.Canary.Weight != c.wantWeight || w.Stable.Weight != 100-c.wantWeight {
				t.Fatalf("status weights %+v", w)
			}
			if n := replicas(fx.rs(t, canaryHash)); n != c.wantCanaryRS {
				t.Fatalf("canary ReplicaSet at %d replicas, want %d", n, c.wantCanaryRS)
			}
			if n := replicas(fx.rs(t, stable)); n != 4 {
				t.Fatalf("stable ReplicaSet at %d replicas, want 4", n)
			}
			if !fx.events.has(c.wantEvent) {
				t.Fatalf("events %q", fx.events.events)
			}
		})
	}
}

// editStatus changes the stored Rollout's status as kubectl argo rollouts does (abort, promote,
// retry patch the status subresource; the generation stays).
func (fx *fixture) editStatus(t *testing.T, change func(*v1alpha1.RolloutStatus)) {
	t.Helper()
	ro := fx.rollout(t)
	change(&ro.Status)
	ro.ResourceVersion = nextRV(ro.ResourceVersion)
	if err := fx.api.rollouts.Update(ro); err != nil {
		t.Fatal(err)
	}
}

func TestSyncPauseStep(t *testing.T) {
	for _, c := range []struct {
		name        string
		pause       string
		wantRequeue time.Duration // the wake-up the pause asks for
		wait        time.Duration // how long the test then lets pass
		promote     bool          // kubectl argo rollouts promote after the wait
		wantStep    int32         // the step after the wait (and the promotion)
	}{
		{"timed pause expires", "30s", 30 * time.Second, 31 * time.Second, false, 3},
		{"timed pause not yet expired", "30s", 30 * time.Second, 29 * time.Second, false, 1},
		{"indefinite pause waits", "", 0, time.Hour, false, 1},
		{"indefinite pause promoted", "", 0, time.Hour, true, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			fx := newSyncFixture(t, syncedRollout(setWeight(25), pauseFor(c.pause), setWeight(50), pauseFor("")))
			fx.edit(t, newImage)
			after := fx.settle(t)
			st := fx.rollout(t).Status
			cond := pauseCond(st.PauseConditions, v1alpha1.PauseReasonCanaryPauseStep)
			if stepIndex(st) != 1 || cond == nil || !cond.StartTime.Equal(&metav1.Time{Time: fx.now}) || !st.ControllerPause {
				t.Fatalf("step %d, pause conditions %+v, controllerPause %v", stepIndex(st), st.PauseConditions, st.ControllerPause)
			}
			if st.Phase != v1alpha1.RolloutPhasePaused || st.Message != "CanaryPauseStep" || after != c.wantRequeue {
				t.Fatalf("phase %s %q, requeue %s (want %s)", st.Phase, st.Message, after, c.wantRequeue)
			}
			if getCond(&st, v1alpha1.RolloutPaused) == nil || getCond(&st, v1alpha1.RolloutPaused).Status != corev1.ConditionTrue {
				t.Fatalf("Paused condition %+v", getCond(&st, v1alpha1.RolloutPaused))
			}
			fx.now = fx.now.Add(c.wait)
			if c.promote {
				fx.editStatus(t, func(st *v1alpha1.RolloutStatus) { st.PauseConditions = nil })
			}
			fx.settle(t)
			st = fx.rollout(t).Status
			if stepIndex(st) != c.wantStep {
				t.Fatalf("after %s: step %d, want %d", c.wait, stepIndex(st), c.wantStep)
			}
			if want := map[bool]int32{true: 50, false: 25}[c.wantStep == 3]; fx.plugins.router(routerName).weight != want {
				t.Fatalf("router weight %d, want %d", fx.plugins.router(routerName).weight, want)
			}
		})
	}
}

func TestSyncAbort(t *testing.T) {
	fx := newSyncFixture(t, syncedRollout(setWeight(25), pauseFor("")))
	stable, canaryHash := fx.toCanary(t)
	abortedAt := metav1.NewTime(fx.now)
	fx.editStatus(t, func(st *v1alpha1.RolloutStatus) { st.Abort, st.AbortedAt = true, &abortedAt }) // as kubectl argo rollouts abort
	after := fx.settle(t)
	st := fx.rollout(t).Status
	if st.Phase != v1alpha1.RolloutPhaseDegraded || st.Message != "RolloutAborted: Rollout aborted update to revision 2" {
		t.Fatalf("phase %s %q", st.Phase, st.Message)
	}
	if !st.Abort || !st.AbortedAt.Equal(&abortedAt) || st.PauseConditions != nil || st.StableRS != stable || stepIndex(st) != 0 {
		t.Fatalf("abort %v at %v, pauses %+v, stable %q, step %d", st.Abort, st.AbortedAt, st.PauseConditions, st.StableRS, stepIndex(st))
	}
	if r := fx.plugins.router(routerName); r.weight != 0 || st.Canary.Weights == nil || st.Canary.Weights.Canary.Weight != 0 {
		t.Fatalf("router weight %d, status weights %+v", r.weight, st.Canary.Weights)
	}
	svc, _ := get[*corev1.Service](fx.api.services, "services", "ns", "web-canary")
	if svc.Spec.Selector[v1alpha1.DefaultRolloutUniqueLabelKey] != stable {
		t.Fatalf("canary Service selects %q after the abort, want the stable %q", svc.Spec.Selector[v1alpha1.DefaultRolloutUniqueLabelKey], stable)
	}
	// the canary keeps its pods for abortScaleDownDelaySeconds (default 30s) and then goes to 0
	if rs := fx.rs(t, canaryHash); replicas(rs) != 1 || rs.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey] == "" || after != DefaultAbortScaleDownDelaySeconds*time.Second {
		t.Fatalf("canary at %d replicas with deadline %q, requeue %s", replicas(rs), rs.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey], after)
	}
	fx.now = fx.now.Add((DefaultAbortScaleDownDelaySeconds + 1) * time.Second)
	fx.settle(t)
	if n := replicas(fx.rs(t, canaryHash)); n != 0 {
		t.Fatalf("canary at %d replicas after the abort delay", n)
	}
	if n := replicas(fx.rs(t, stable)); n != 4 {
		t.Fatalf("stable at %d replicas", n)
	}
	if c := getCond(&st, v1alpha1.RolloutProgressing); c == nil || c.Status != corev1.ConditionFalse || c.Reason != reasonAborted {
		t.Fatalf("Progressing condition %+v", c)
	}
}

func TestSyncPromoteFull(t *testing.T) {
	fx := newSyncFixture(t, syncedRollout(setWeight(25), pauseFor(""), setWeight(50)))
	stable, canaryHash := fx.toCanary(t)
	fx.editStatus(t, func(st *v1alpha1.RolloutStatus) { st.PromoteFull = true })
	fx.settle(t)
	st := fx.rollout(t).Status
	if st.StableRS != canaryHash || st.PromoteFull || st.PauseConditions != nil || st.ControllerPause || stepIndex(st) != 3 {
		t.Fatalf("stable %q (canary %q), promoteFull %v, pauses %+v, controllerPause %v, step %d",
			st.StableRS, canaryHash, st.PromoteFull, st.PauseConditions, st.ControllerPause, stepIndex(st))
	}
	if st.Phase != v1alpha1.RolloutPhaseHealthy {
		t.Fatalf("phase %s %q", st.Phase, st.Message)
	}
	if n := replicas(fx.rs(t, canaryHash)); n != 4 {
		t.Fatalf("new stable at %d replicas", n)
	}
	if r := fx.plugins.router(routerName); r.weight != 0 || r.stableHash != canaryHash {
		t.Fatalf("router weight %d stable %q after promotion", r.weight, r.stableHash)
	}
	fx.now = fx.now.Add((DefaultScaleDownDelaySeconds + 1) * time.Second)
	fx.settle(t)
	if n := replicas(fx.rs(t, stable)); n != 0 {
		t.Fatalf("old stable at %d replicas after scaleDownDelaySeconds", n)
	}
	if !fx.events.has("Normal RolloutCompleted Rollout completed update to revision 2 (" + canaryHash + "): Full promotion requested") {
		t.Fatalf("events %q", fx.events.events)
	}
}

func TestSyncStepAnalysisFailureAborts(t *testing.T) {
	const runMsg = `Metric "m" assessed Failed due to failed (1) > failureLimit (0)`
	tmpl := &v1alpha1.AnalysisTemplate{ObjectMeta: metav1.ObjectMeta{Name: "success-rate", Namespace: "ns"},
		Spec: v1alpha1.AnalysisTemplateSpec{Metrics: []v1alpha1.Metric{{Name: "m",
			Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"fake/metric": json.RawMessage(`{}`)}}}}}}
	fx := newSyncFixture(t, syncedRollout(setWeight(25), analysisStep("success-rate"), setWeight(50)), tmpl)
	_, canaryHash := fx.toCanary(t)
	st := fx.rollout(t).Status
	run := st.Canary.CurrentStepAnalysisRunStatus
	if stepIndex(st) != 1 || run == nil {
		t.Fatalf("step %d, step run %+v", stepIndex(st), run)
	}
	stored, err := get[*v1alpha1.AnalysisRun](fx.api.runs, "analysisruns", "ns", run.Name)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Labels[v1alpha1.RolloutCanaryStepIndexLabel] != "1" || stored.Labels[v1alpha1.DefaultRolloutUniqueLabelKey] != canaryHash ||
		len(stored.Spec.Metrics) != 1 || stored.Spec.Metrics[0].Name != "m" {
		t.Fatalf("run %s: labels %v, metrics %+v", stored.Name, stored.Labels, stored.Spec.Metrics)
	}
	// the run's engine fails it
	failed := stored.DeepCopy()
	failed.Status.Phase, failed.Status.Message = v1alpha1.AnalysisPhaseFailed, runMsg
	if err := fx.api.runs.Update(failed); err != nil {
		t.Fatal(err)
	}
	fx.settle(t)
	st = fx.rollout(t).Status
	want := "RolloutAborted: Rollout aborted update to revision 2: Step-based analysis phase error/failed: " + runMsg
	if !st.Abort || st.Phase != v1alpha1.RolloutPhaseDegraded || st.Message != want {
		t.Fatalf("abort %v, phase %s %q, want %q", st.Abort, st.Phase, st.Message, want)
	}
	if s := st.Canary.CurrentStepAnalysisRunStatus; s == nil || s.Name != run.Name || s.Status != v1alpha1.AnalysisPhaseFailed {
		t.Fatalf("step run status after the abort %+v", s)
	}
	if fx.plugins.router(routerName).weight != 0 {
		t.Fatalf("router weight %d after the abort", fx.plugins.router(routerName).weight)
	}
	if !fx.events.has("Warning AnalysisRunFailed Analysis Run '" + run.Name + "' Failed: " + runMsg) {
		t.Fatalf("events %q", fx.events.events)
	}
}
