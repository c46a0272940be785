package rollout

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

func TestSyncFirstRevisionIsStableAtOnce(t *testing.T) {
	fx := newSyncFixture(t, syncedRollout(setWeight(25), pauseFor("")))
	st := fx.rollout(t).Status
	if st.StableRS == "" || st.StableRS != st.CurrentPodHash || stepIndex(st) != 2 {
		t.Fatalf("stable %q current %q step %d", st.StableRS, st.CurrentPodHash, stepIndex(st))
	}
	if rs := fx.rs(t, st.StableRS); replicas(rs) != 4 || rs.Annotations[v1alpha1.RevisionAnnotation] != "1" {
		t.Fatalf("ReplicaSet %s: %d replicas, revision %q", rs.Name, replicas(rs), rs.Annotations[v1alpha1.RevisionAnnotation])
	}
	if !fx.events.has("Normal RolloutCompleted Rollout completed update to revision 1 (" + st.StableRS + "): Initial deploy") {
		t.Fatalf("events %q", fx.events.events)
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
	if n := fx.events.count("Normal RolloutUpdated Rollout updated to revision 2"); n != 1 {
		t.Fatalf("RolloutUpdated announced %d times (the annotation patch must not make the status write conflict): %q", n, fx.events.events)
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

func TestSyncRollbackToStableSkipsSteps(t *testing.T) {
	fx := newSyncFixture(t, syncedRollout(setWeight(25), pauseFor("")))
	stable, canaryHash := fx.toCanary(t)
	fx.edit(t, func(ro *v1alpha1.Rollout) { ro.Spec.Template.Spec.Containers[0].Image = "web:1" })
	fx.settle(t)
	st := fx.rollout(t).Status
	if st.CurrentPodHash != stable || st.StableRS != stable || stepIndex(st) != 2 || st.Phase != v1alpha1.RolloutPhaseHealthy {
		t.Fatalf("current %q stable %q (want %q), step %d, phase %s %q", st.CurrentPodHash, st.StableRS, stable, stepIndex(st), st.Phase, st.Message)
	}
	if rev := fx.rs(t, stable).Annotations[v1alpha1.RevisionAnnotation]; rev != "3" {
		t.Fatalf("stable ReplicaSet revision %q, want 3", rev)
	}
	fx.now = fx.now.Add((DefaultScaleDownDelaySeconds + 1) * time.Second)
	fx.settle(t)
	if n := replicas(fx.rs(t, canaryHash)); n != 0 {
		t.Fatalf("abandoned canary at %d replicas after scaleDownDelaySeconds", n)
	}
	if !fx.events.has("Normal SkipSteps Rollback to stable ReplicaSets") {
		t.Fatalf("events %q", fx.events.events)
	}
}

func TestStrategyFor(t *testing.T) {
	fx := newFixture(t)
	if s, err := fx.ctx(syncedRollout()).strategyFor(); err != nil {
		t.Fatal(err)
	} else if _, ok := s.(*canaryStrategy); !ok {
		t.Fatalf("canary spec: strategy %T", s)
	}
	if s, err := fx.ctx(blueGreenRollout(nil)).strategyFor(); err != nil {
		t.Fatal(err)
	} else if _, ok := s.(*blueGreenStrategy); !ok {
		t.Fatalf("blueGreen spec: strategy %T", s)
	}
	ro := syncedRollout()
	ro.Spec.Strategy = v1alpha1.RolloutStrategy{}
	if s, err := fx.ctx(ro).strategyFor(); err == nil {
		t.Fatalf("no strategy: strategy %T, want an error (validation refuses it first)", s)
	}
}

func TestSyncRefusesBlueGreenWithoutActiveService(t *testing.T) {
	ro := syncedRollout()
	ro.Spec.Strategy = v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{}}
	fx := newFixture(t, ro)
	fx.sync(t)
	st := fx.rollout(t).Status
	c := getCond(&st, v1alpha1.InvalidSpec)
	want := "spec.strategy.blueGreen.activeService: Required value: Rollout has missing field '.spec.strategy.blueGreen.activeService'"
	if c == nil || st.Phase != v1alpha1.RolloutPhaseDegraded || !strings.Contains(c.Message, want) {
		t.Fatalf("phase %s %q, InvalidSpec %+v", st.Phase, st.Message, c)
	}
	if n := len(fx.api.replicaSets.List()); n != 0 {
		t.Fatalf("%d ReplicaSets created for an invalid Rollout", n)
	}
}
