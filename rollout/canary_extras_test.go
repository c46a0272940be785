package rollout

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// podLabels returns "k=v" of the given label keys for every pod of the ReplicaSet, sorted.
func (fx *fixture) podLabels(t *testing.T, rs *appsv1.ReplicaSet, keys ...string) []string {
	t.Helper()
	var out []string
	for _, p := range fx.api.pods {
		if !metav1.IsControlledBy(&p, rs) {
			continue
		}
		var kv []string
		for _, k := range keys {
			if v, ok := p.Labels[k]; ok {
				kv = append(kv, k+"="+v)
			} else if v, ok := p.Annotations[k]; ok {
				kv = append(kv, k+"="+v)
			}
		}
		out = append(out, strings.Join(kv, ","))
	}
	sort.Strings(out)
	return out
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func metadataRollout() *v1alpha1.Rollout {
	ro := syncedRollout(setWeight(25), pauseFor(""))
	ro.Spec.Strategy.Canary.CanaryMetadata = &v1alpha1.PodTemplateMetadata{Labels: map[string]string{"role": "canary"}, Annotations: map[string]string{"note": "c"}}
	ro.Spec.Strategy.Canary.StableMetadata = &v1alpha1.PodTemplateMetadata{Labels: map[string]string{"role": "stable"}}
	return ro
}

// newPodsFixture is newSyncFixture with the fake running the ReplicaSets' pods.
func newPodsFixture(t *testing.T, ro *v1alpha1.Rollout) *fixture {
	t.Helper()
	fx := newFixture(t, ro, service("web-stable", nil), service("web-canary", nil))
	fx.api.runPods = true
	fx.plugins.router(routerName)
	fx.settle(t)
	if st := fx.rollout(t).Status; st.Phase != v1alpha1.RolloutPhaseHealthy {
		t.Fatalf("first revision: phase %s %q", st.Phase, st.Message)
	}
	return fx
}

func TestSyncEphemeralMetadata(t *testing.T) {
	fx := newPodsFixture(t, metadataRollout())
	v1 := fx.rollout(t).Status.StableRS
	// a first revision is created with the stable metadata
	rs1 := fx.rs(t, v1)
	if rs1.Spec.Template.Labels["role"] != "stable" || rs1.Annotations[EphemeralMetadataAnnotation] != `{"labels":{"role":"stable"}}` {
		t.Fatalf("first ReplicaSet template labels %v, annotations %v", rs1.Spec.Template.Labels, rs1.Annotations)
	}
	if got, want := fx.podLabels(t, rs1, "role", "note"), repeat("role=stable", 4); strings.Join(got, ";") != strings.Join(want, ";") {
		t.Fatalf("stable pods %v, want %v", got, want)
	}

	// during the update: canary metadata on the canary, stable metadata on the stable
	_, v2 := fx.toCanary(t)
	rs2 := fx.rs(t, v2)
	if rs2.Spec.Template.Labels["role"] != "canary" || rs2.Spec.Template.Annotations["note"] != "c" {
		t.Fatalf("canary ReplicaSet template %v %v", rs2.Spec.Template.Labels, rs2.Spec.Template.Annotations)
	}
	if got := fx.podLabels(t, rs2, "role", "note"); strings.Join(got, ";") != "role=canary,note=c" {
		t.Fatalf("canary pods %v", got)
	}
	if got := fx.podLabels(t, fx.rs(t, v1), "role", "note"); strings.Join(got, ";") != strings.Join(repeat("role=stable", 4), ";") {
		t.Fatalf("stable pods during the update %v", got)
	}

	// promotion: the canary's template and running pods switch to the stable metadata (the
	// canary-only annotation is removed), the old stable loses all injected metadata
	fx.editStatus(t, func(st *v1alpha1.RolloutStatus) { st.PauseConditions = nil })
	fx.settle(t)
	if st := fx.rollout(t).Status; st.StableRS != v2 || st.Phase != v1alpha1.RolloutPhaseHealthy {
		t.Fatalf("stable %q (want %q), phase %s %q", st.StableRS, v2, st.Phase, st.Message)
	}
	rs2 = fx.rs(t, v2)
	if rs2.Spec.Template.Labels["role"] != "stable" || rs2.Spec.Template.Annotations["note"] != "" ||
		rs2.Annotations[EphemeralMetadataAnnotation] != `{"labels":{"role":"stable"}}` {
		t.Fatalf("promoted ReplicaSet template %v %v, annotations %v", rs2.Spec.Template.Labels, rs2.Spec.Template.Annotations, rs2.Annotations)
	}
	if got := fx.podLabels(t, rs2, "role", "note"); strings.Join(got, ";") != strings.Join(repeat("role=stable", 4), ";") {
		t.Fatalf("promoted pods %v", got)
	}
	rs1 = fx.rs(t, v1)
	if _, ok := rs1.Spec.Template.Labels["role"]; ok || rs1.Annotations[EphemeralMetadataAnnotation] != "" {
		t.Fatalf("old stable template %v, annotations %v", rs1.Spec.Template.Labels, rs1.Annotations)
	}
	if got := fx.podLabels(t, rs1, "role"); strings.Join(got, ";") != strings.Join(repeat("", 4), ";") {
		t.Fatalf("old stable pods (kept for scaleDownDelaySeconds) %v", got)
	}
	if rs1.Spec.Template.Labels["app"] != "web" {
		t.Fatalf("template labels of the Rollout lost: %v", rs1.Spec.Template.Labels)
	}
}

func TestSyncEphemeralMetadataLeavesOtherMetadata(t *testing.T) {
	fx := newPodsFixture(t, metadataRollout())
	v1 := fx.rollout(t).Status.StableRS
	// another controller labels a pod; changing stableMetadata removes only what nerve injected
	fx.api.pods[0].Labels["injector"] = "sidecar"
	fx.edit(t, func(ro *v1alpha1.Rollout) {
		ro.Spec.Strategy.Canary.StableMetadata = &v1alpha1.PodTemplateMetadata{Labels: map[string]string{"tier": "gold"}}
	})
	fx.settle(t)
	rs := fx.rs(t, v1)
	if rs.Spec.Template.Labels["tier"] != "gold" || rs.Spec.Template.Labels["role"] != "" {
		t.Fatalf("template labels %v", rs.Spec.Template.Labels)
	}
	p := fx.api.pods[0]
	if p.Labels["injector"] != "sidecar" || p.Labels["tier"] != "gold" || p.Labels["role"] != "" || p.Labels["app"] != "web" {
		t.Fatalf("pod labels %v", p.Labels)
	}
}

func TestSyncRollbackWindow(t *testing.T) {
	for _, c := range []struct {
		name     string
		window   int32
		versions []string // images shipped after web:1, each promoted; then back to web:1
		skip     bool
	}{
		{"previous revision within a window of 1", 1, []string{"web:2"}, true},
		{"two revisions back within a window of 2", 2, []string{"web:2", "web:3"}, true},
		{"two revisions back outside a window of 1", 1, []string{"web:2", "web:3"}, false},
		{"no window", 0, []string{"web:2"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ro := syncedRollout(setWeight(25), pauseFor(""))
			if c.window > 0 {
				ro.Spec.RollbackWindow = &v1alpha1.RollbackWindowSpec{Revisions: c.window}
			}
			// every older ReplicaSet stays scaled up (no deadline passes in the test)
			ro.Spec.Strategy.Canary.ScaleDownDelaySeconds = ptr.To[int32](3600)
			fx := newSyncFixture(t, ro)
			v1 := fx.rollout(t).Status.StableRS
			for _, img := range c.versions {
				fx.now = fx.now.Add(time.Second)
				fx.edit(t, func(ro *v1alpha1.Rollout) { ro.Spec.Template.Spec.Containers[0].Image = img })
				fx.settle(t)
				fx.editStatus(t, func(st *v1alpha1.RolloutStatus) { st.PromoteFull = true })
				fx.settle(t)
			}
			fx.now = fx.now.Add(time.Second)
			before := len(fx.events.events)
			fx.edit(t, func(ro *v1alpha1.Rollout) { ro.Spec.Template.Spec.Containers[0].Image = "web:1" })
			fx.settle(t)
			st := fx.rollout(t).Status
			skipped := fx.events.has("Normal SkipSteps Rollback to active ReplicaSets within RollbackWindow")
			if skipped != c.skip {
				t.Fatalf("SkipSteps event %v, want %v; events %q", skipped, c.skip, fx.events.events)
			}
			if !c.skip {
				if st.StableRS == v1 || stepIndex(st) != 1 || st.Phase != v1alpha1.RolloutPhasePaused {
					t.Fatalf("a rollback outside the window runs the steps: stable %q, step %d, phase %s %q", st.StableRS, stepIndex(st), st.Phase, st.Message)
				}
				return
			}
			if st.StableRS != v1 || st.CurrentPodHash != v1 || stepIndex(st) != 2 || st.Phase != v1alpha1.RolloutPhaseHealthy {
				t.Fatalf("stable %q current %q (want %q), step %d, phase %s %q", st.StableRS, st.CurrentPodHash, v1, stepIndex(st), st.Phase, st.Message)
			}
			if n := replicas(fx.rs(t, v1)); n != 4 {
				t.Fatalf("rolled-back ReplicaSet at %d replicas", n)
			}
			if !fx.events.has(fmt.Sprintf("Normal RolloutCompleted Rollout completed update to revision %d (%s): Rollback within window", len(c.versions)+2, v1)) {
				t.Fatalf("events %q", fx.events.events)
			}
			for _, e := range fx.events.events[before:] {
				if strings.Contains(e, "RolloutStepCompleted") || strings.Contains(e, "AnalysisRunRunning") {
					t.Fatalf("the rollback ran a step: %q", fx.events.events[before:])
				}
			}
		})
	}
}

func TestSyncScaleDownDelayRevisionLimit(t *testing.T) {
	for _, c := range []struct {
		name  string
		limit *int32
		want  map[string]int32 // image -> replicas of its ReplicaSet after web:3 is promoted
	}{
		{"default keeps every previous stable for the delay", nil, map[string]int32{"web:1": 4, "web:2": 4, "web:3": 4}},
		{"limit 1 keeps only the newest", ptr.To[int32](1), map[string]int32{"web:1": 0, "web:2": 4, "web:3": 4}},
		{"limit 0 scales all down at once", ptr.To[int32](0), map[string]int32{"web:1": 0, "web:2": 0, "web:3": 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ro := syncedRollout(setWeight(25), pauseFor(""))
			ro.Spec.Strategy.Canary.ScaleDownDelayRevisionLimit = c.limit
			fx := newSyncFixture(t, ro)
			hashes := map[string]string{"web:1": fx.rollout(t).Status.StableRS}
			for _, img := range []string{"web:2", "web:3"} {
				fx.edit(t, func(ro *v1alpha1.Rollout) { ro.Spec.Template.Spec.Containers[0].Image = img })
				fx.settle(t)
				hashes[img] = fx.rollout(t).Status.CurrentPodHash
				fx.editStatus(t, func(st *v1alpha1.RolloutStatus) { st.PromoteFull = true })
				fx.settle(t)
			}
			for img, want := range c.want {
				if n := replicas(fx.rs(t, hashes[img])); n != want {
					t.Errorf("%s ReplicaSet at %d replicas, want %d", img, n, want)
				}
			}
			fx.now = fx.now.Add((DefaultScaleDownDelaySeconds + 1) * time.Second)
			fx.settle(t)
			for _, img := range []string{"web:1", "web:2"} {
				if n := replicas(fx.rs(t, hashes[img])); n != 0 {
					t.Errorf("%s ReplicaSet at %d replicas after the delay", img, n)
				}
			}
		})
	}
}

func completedRun(name, hash string, phase v1alpha1.AnalysisPhase, created time.Time) *v1alpha1.AnalysisRun {
	done := metav1.NewTime(created)
	run := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", CreationTimestamp: metav1.NewTime(created),
		Labels: map[string]string{}}, Status: v1alpha1.AnalysisRunStatus{Phase: phase, CompletedAt: &done}}
	if hash != "" {
		run.Labels[v1alpha1.DefaultRolloutUniqueLabelKey] = hash
	}
	return run
}

func TestRunsToDelete(t *testing.T) {
	t0 := time.Unix(1000, 0)
	rss := []*appsv1.ReplicaSet{replicaSet("web-a", "a", 4, 4), replicaSet("web-b", "b", 0, 0)}
	gone := replicaSet("web-c", "c", 0, 0)
	gone.DeletionTimestamp = ptr.To(metav1.NewTime(t0))
	rss = append(rss, gone)
	var runs []*v1alpha1.AnalysisRun
	add := func(name, hash string, phase v1alpha1.AnalysisPhase) {
		runs = append(runs, completedRun(name, hash, phase, t0.Add(time.Duration(len(runs))*time.Second)))
	}
	add("ok-1", "a", v1alpha1.AnalysisPhaseSuccessful)
	add("ok-2", "b", v1alpha1.AnalysisPhaseSuccessful)
	add("ok-3", "a", v1alpha1.AnalysisPhaseSuccessful)
	add("bad-1", "a", v1alpha1.AnalysisPhaseFailed)
	add("bad-2", "a", v1alpha1.AnalysisPhaseInconclusive)
	add("bad-3", "b", v1alpha1.AnalysisPhaseError)
	add("running", "a", v1alpha1.AnalysisPhaseRunning)
	add("no-hash", "", v1alpha1.AnalysisPhaseRunning)
	add("rs-gone", "z", v1alpha1.AnalysisPhaseSuccessful)
	add("rs-deleting", "c", v1alpha1.AnalysisPhaseRunning)
	add("current", "a", v1alpha1.AnalysisPhaseSuccessful)
	var got []string
	for _, r := range runsToDelete(runs, map[string]bool{"current": true}, rss, 2, 1) {
		got = append(got, r.Name)
	}
	sort.Strings(got)
	want := []string{"bad-1", "bad-2", "no-hash", "ok-1", "rs-deleting", "rs-gone"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("deleted %v, want %v (newest kept: ok-3, ok-2; bad-3)", got, want)
	}
}

func TestSyncRunHistoryLimits(t *testing.T) {
	ro := syncedRollout(setWeight(25), pauseFor(""))
	ro.Spec.Analysis = &v1alpha1.AnalysisRunStrategy{SuccessfulRunHistoryLimit: ptr.To[int32](1), UnsuccessfulRunHistoryLimit: ptr.To[int32](0)}
	fx := newSyncFixture(t, ro)
	stored := fx.rollout(t)
	hash := stored.Status.StableRS
	own := func(r *v1alpha1.AnalysisRun) *v1alpha1.AnalysisRun {
		r.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(stored, v1alpha1.GroupVersionKind(v1alpha1.RolloutKind))}
		return r
	}
	for i, r := range []*v1alpha1.AnalysisRun{
		completedRun("ok-old", hash, v1alpha1.AnalysisPhaseSuccessful, fx.now.Add(-3*time.Minute)),
		completedRun("ok-new", hash, v1alpha1.AnalysisPhaseSuccessful, fx.now.Add(-2*time.Minute)),
		completedRun("failed", hash, v1alpha1.AnalysisPhaseFailed, fx.now.Add(-time.Minute)),
	} {
		r.ResourceVersion = fmt.Sprint(i + 1)
		if err := fx.api.runs.Add(own(r)); err != nil {
			t.Fatal(err)
		}
	}
	fx.edit(t, func(ro *v1alpha1.Rollout) { ro.Spec.Paused = false }) // any change: the next sync reconciles
	fx.settle(t)
	var left []string
	for _, o := range fx.api.runs.List() {
		left = append(left, o.(*v1alpha1.AnalysisRun).Name)
	}
	if strings.Join(left, ",") != "ok-new" {
		t.Fatalf("runs left %v, want [ok-new] (successfulRunHistoryLimit 1, unsuccessfulRunHistoryLimit 0)", left)
	}
}

func TestSyncAnalysisRunTTL(t *testing.T) {
	for _, c := range []struct {
		name     string
		phase    v1alpha1.AnalysisPhase
		ttl      v1alpha1.TTLStrategy
		wantSecs int32 // seconds after completion it is deleted; 0 = never
	}{
		{"success uses secondsAfterSuccess", v1alpha1.AnalysisPhaseSuccessful,
			v1alpha1.TTLStrategy{SecondsAfterSuccess: ptr.To[int32](10), SecondsAfterCompletion: ptr.To[int32](100)}, 10},
		{"failure uses secondsAfterFailure", v1alpha1.AnalysisPhaseFailed,
			v1alpha1.TTLStrategy{SecondsAfterFailure: ptr.To[int32](20), SecondsAfterSuccess: ptr.To[int32](1)}, 20},
		{"error falls back to secondsAfterCompletion", v1alpha1.AnalysisPhaseError,
			v1alpha1.TTLStrategy{SecondsAfterFailure: ptr.To[int32](20), SecondsAfterCompletion: ptr.To[int32](30)}, 30},
		{"no value for the phase keeps it", v1alpha1.AnalysisPhaseSuccessful,
			v1alpha1.TTLStrategy{SecondsAfterFailure: ptr.To[int32](20)}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			fx := newFixture(t)
			run := completedRun("run", "", c.phase, fx.now)
			run.ResourceVersion = "1"
			run.Spec.TTLStrategy = &c.ttl
			if err := fx.api.runs.Add(run); err != nil {
				t.Fatal(err)
			}
			ref := cache.ObjectName{Namespace: "ns", Name: "run"}
			after, err := fx.c.syncAnalysisRun(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			_, exists, _ := fx.api.runs.GetByKey("ns/run")
			if c.wantSecs == 0 {
				fx.now = fx.now.Add(time.Hour)
				if _, err := fx.c.syncAnalysisRun(context.Background(), ref); err != nil {
					t.Fatal(err)
				}
				if _, exists, _ := fx.api.runs.GetByKey("ns/run"); !exists || after != 0 {
					t.Fatalf("run without a TTL for its phase deleted (exists %v) or requeued in %s", exists, after)
				}
				return
			}
			// Argo: int32(seconds since completedAt) > ttl, so deletion comes at ttl+1 s
			if want := time.Duration(c.wantSecs+1) * time.Second; !exists || after != want {
				t.Fatalf("exists %v, requeue %s, want the run kept and a requeue in %s", exists, after, want)
			}
			fx.now = fx.now.Add(time.Duration(c.wantSecs) * time.Second)
			if _, err := fx.c.syncAnalysisRun(context.Background(), ref); err != nil {
				t.Fatal(err)
			}
			if _, exists, _ := fx.api.runs.GetByKey("ns/run"); !exists {
				t.Fatalf("deleted at exactly %ds after completion", c.wantSecs)
			}
			fx.now = fx.now.Add(time.Second)
			if _, err := fx.c.syncAnalysisRun(context.Background(), ref); err != nil {
				t.Fatal(err)
			}
			if _, exists, _ := fx.api.runs.GetByKey("ns/run"); exists {
				t.Fatalf("kept %ds after completion", c.wantSecs+1)
			}
		})
	}
}

func TestSyncCanaryAntiAffinity(t *testing.T) {
	ro := syncedRollout(setWeight(25), pauseFor(""))
	ro.Spec.Strategy.Canary.AntiAffinity = &v1alpha1.AntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: &v1alpha1.PreferredDuringSchedulingIgnoredDuringExecution{Weight: 40}}
	fx := newSyncFixture(t, ro)
	v1 := fx.rollout(t).Status.StableRS
	if a := fx.rs(t, v1).Spec.Template.Spec.Affinity; a != nil {
		t.Fatalf("first ReplicaSet (no stable to avoid) got affinity %+v", a)
	}
	_, v2 := fx.toCanary(t)
	a := fx.rs(t, v2).Spec.Template.Spec.Affinity
	if a == nil || a.PodAntiAffinity == nil || len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Fatalf("canary ReplicaSet affinity %+v", a)
	}
	term := a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0]
	if term.Weight != 40 || term.PodAffinityTerm.LabelSelector.MatchExpressions[0].Values[0] != v1 {
		t.Fatalf("anti-affinity term %+v, want weight 40 against %s", term, v1)
	}
}

// TestSyncUndoReusesDefaultedReplicaSet: `kubectl argo rollouts undo` copies a ReplicaSet's
// (API-defaulted) template into the Rollout; its hash differs from the ReplicaSet's, and the loop
// must reuse that ReplicaSet as Argo's FindNewReplicaSet does, not create a new one.
func TestSyncUndoReusesDefaultedReplicaSet(t *testing.T) {
	ro := syncedRollout(setWeight(25), pauseFor(""))
	ro.Spec.RollbackWindow = &v1alpha1.RollbackWindowSpec{Revisions: 1}
	ro.Spec.Strategy.Canary.ScaleDownDelaySeconds = ptr.To[int32](3600)
	fx := newSyncFixture(t, ro)
	v1 := fx.rollout(t).Status.StableRS
	// the API server defaults the ReplicaSet's pod template
	rs1 := fx.rs(t, v1)
	rs1.Spec.Template.Spec.DNSPolicy = "ClusterFirst"
	rs1.ResourceVersion = nextRV(rs1.ResourceVersion)
	if err := fx.api.replicaSets.Update(rs1); err != nil {
		t.Fatal(err)
	}
	fx.now = fx.now.Add(time.Second)
	_, v2 := fx.toCanary(t)
	fx.editStatus(t, func(st *v1alpha1.RolloutStatus) { st.PromoteFull = true })
	fx.settle(t)
	fx.now = fx.now.Add(time.Second)
	undo := fx.rs(t, v1).Spec.Template.DeepCopy()
	delete(undo.Labels, v1alpha1.DefaultRolloutUniqueLabelKey)
	fx.edit(t, func(ro *v1alpha1.Rollout) { ro.Spec.Template = *undo })
	fx.settle(t)
	st := fx.rollout(t).Status
	if n := len(fx.api.replicaSets.List()); n != 2 {
		t.Fatalf("%d ReplicaSets after the undo, want the 2 there were", n)
	}
	if st.CurrentPodHash != v1 || st.StableRS != v1 || st.Phase != v1alpha1.RolloutPhaseHealthy {
		t.Fatalf("current %q stable %q (v1 %q, v2 %q), phase %s %q", st.CurrentPodHash, st.StableRS, v1, v2, st.Phase, st.Message)
	}
	if !fx.events.has(fmt.Sprintf("Normal RolloutCompleted Rollout completed update to revision 3 (%s): Rollback within window", v1)) {
		t.Fatalf("events %q", fx.events.events)
	}
}
