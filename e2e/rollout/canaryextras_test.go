//go:build e2e

package rollout

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// metadataExtra is canaryMetadata/stableMetadata for trafficCanary.
const metadataExtra = `      canaryMetadata:
        labels: {role: canary}
        annotations: {note: canary-only}
      stableMetadata:
        labels: {role: stable}
`

// podRoles returns "<pod-template-hash>:<role label>" of every live pod of app, sorted, and
// the pod names.
func (s *suite) podRoles(ctx context.Context, app string) ([]string, map[string]bool, error) {
	pods, err := s.env.Client.CoreV1().Pods(s.ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return nil, nil, err
	}
	var out []string
	names := map[string]bool{}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		out = append(out, p.Labels[v1alpha1.DefaultRolloutUniqueLabelKey]+":"+p.Labels["role"]+":"+p.Annotations["note"])
		names[p.Name] = true
	}
	sort.Strings(out)
	return out, names, nil
}

// waitRoles waits until the pods of app carry exactly want.
func (s *suite) waitRoles(app, what string, want ...string) map[string]bool {
	s.t.Helper()
	sort.Strings(want)
	var names map[string]bool
	framework.Eventually(s.t, 60*time.Second, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		got, n, err := s.podRoles(ctx, app)
		if err != nil {
			return false, err
		}
		names = n
		if strings.Join(got, " ") != strings.Join(want, " ") {
			return false, fmt.Errorf("pods (hash:role:note) %v, want %v", got, want)
		}
		return true, nil
	}, "%s", what)
	return names
}

// rsTemplateRole is the role label of a ReplicaSet's pod template and its ephemeral annotation.
func (s *suite) rsTemplateRole(app, hash string) (string, string) {
	s.t.Helper()
	rs, err := s.env.Client.AppsV1().ReplicaSets(s.ns).Get(s.t.Context(), app+"-"+hash, metav1.GetOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	return rs.Spec.Template.Labels["role"], rs.Annotations["rollout.argoproj.io/ephemeral-metadata"]
}

// TestCanaryMetadataOnPodsAndReplicaSets: stableMetadata on the first revision's pods; during an
// update canaryMetadata on the canary's pods and ReplicaSet template, stableMetadata on the
// stable's; after promotion the same canary pods (patched in place, not replaced) carry
// stableMetadata, the canary-only annotation is gone, and the old ReplicaSet's template has no
// injected metadata left.
func TestCanaryMetadataOnPodsAndReplicaSets(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.services("meta", "meta-stable", "meta-canary")
	s.apply(rolloutYAML("meta", 2, trafficCanary("meta", "      - setWeight: 50\n      - pause: {}\n", metadataExtra)))
	var v1 string
	s.waitRollout("meta", 60*time.Second, "initial deploy healthy", healthyAt(&v1))
	s.waitRoles("meta", "first revision pods stable", v1+":stable:", v1+":stable:")

	s.setImage("meta", "v2")
	ro := s.waitRollout("meta", 60*time.Second, "paused at step 1", stepIs(1))
	v2 := ro.Status.CurrentPodHash
	canaryPods := s.waitRoles("meta", "canary pods canary, stable pods stable", v1+":stable:", v1+":stable:", v2+":canary:canary-only")
	if role, ann := s.rsTemplateRole("meta", v2); role != "canary" || ann != `{"labels":{"role":"canary"},"annotations":{"note":"canary-only"}}` {
		t.Errorf("canary ReplicaSet template role %q, ephemeral-metadata %q", role, ann)
	}

	s.promote("meta")
	s.waitRollout("meta", 60*time.Second, "v2 healthy", func(ro *v1alpha1.Rollout) bool {
		return healthyAt(nil)(ro) && ro.Status.StableRS == v2
	})
	names := s.waitRoles("meta", "promoted pods stable, old pods gone", v2+":stable:", v2+":stable:")
	for n := range canaryPods {
		if strings.HasPrefix(n, "meta-"+v2) && !names[n] {
			t.Errorf("canary pod %s was replaced instead of relabelled", n)
		}
	}
	if role, ann := s.rsTemplateRole("meta", v2); role != "stable" || ann != `{"labels":{"role":"stable"}}` {
		t.Errorf("promoted ReplicaSet template role %q, ephemeral-metadata %q", role, ann)
	}
	if role, ann := s.rsTemplateRole("meta", v1); role != "" || ann != "" {
		t.Errorf("old ReplicaSet template role %q, ephemeral-metadata %q", role, ann)
	}
}

// TestRollbackWindow: with rollbackWindow.revisions 1, going back to the previous revision skips
// the steps (the indefinite pause never holds it) and completes; the same rollback without a
// window stops at the pause step. (The 'Rollback within window' event is compared with Argo's in
// e2e/argo: here the event recorder's spam filter may drop it after this many events.)
func TestRollbackWindow(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	steps := "      - setWeight: 50\n      - pause: {}\n"
	for _, app := range []string{"win", "nowin"} {
		s.services(app, app+"-stable", app+"-canary")
		body := rolloutYAML(app, 2, trafficCanary(app, steps))
		if app == "win" {
			body = strings.Replace(body, "  revisionHistoryLimit: 3\n", "  revisionHistoryLimit: 3\n  rollbackWindow: {revisions: 1}\n", 1)
		}
		s.apply(body)
	}
	v1 := map[string]string{}
	for _, app := range []string{"win", "nowin"} {
		var h string
		s.waitRollout(app, 60*time.Second, app+" initial deploy healthy", healthyAt(&h))
		v1[app] = h
		// Argo's window compares ReplicaSet creationTimestamps, which have one-second
		// resolution: v2 must be created in a later second than v1 to be newer.
		time.Sleep(1100 * time.Millisecond)
		s.setImage(app, "v2")
		s.waitRollout(app, 60*time.Second, app+" paused at step 1", stepIs(1))
		s.promote(app)
		s.waitRollout(app, 60*time.Second, app+" v2 healthy", func(ro *v1alpha1.Rollout) bool {
			return healthyAt(nil)(ro) && ro.Status.StableRS != v1[app]
		})
		s.rollBackToFirst(app)
	}
	ro := s.waitRollout("win", 60*time.Second, "rollback within window healthy without a promote", func(ro *v1alpha1.Rollout) bool {
		return healthyAt(nil)(ro) && ro.Status.StableRS == v1["win"]
	})
	if ro.Status.CurrentStepIndex == nil || *ro.Status.CurrentStepIndex != 2 || ro.Status.CurrentPodHash != v1["win"] {
		t.Errorf("step %v, current %q (want %q)", ro.Status.CurrentStepIndex, ro.Status.CurrentPodHash, v1["win"])
	}
	ro = s.waitRollout("nowin", 60*time.Second, "rollback without a window paused at step 1", func(ro *v1alpha1.Rollout) bool {
		return stepIs(1)(ro) && ro.Status.Phase == v1alpha1.RolloutPhasePaused
	})
	if ro.Status.StableRS == v1["nowin"] || ro.Status.Phase != v1alpha1.RolloutPhasePaused {
		t.Errorf("without a window: stable %q (v1 %q), phase %s", ro.Status.StableRS, v1["nowin"], ro.Status.Phase)
	}
}

// rollBackToFirst brings the pod template back to the first revision's (setImage's
// annotation removed), as `kubectl argo rollouts undo` to revision 1 would.
func (s *suite) rollBackToFirst(name string) {
	s.t.Helper()
	ri, err := s.env.ResourceFor(v1alpha1.GroupVersionKind(v1alpha1.RolloutKind), s.ns)
	if err != nil {
		s.t.Fatal(err)
	}
	patch := `{"spec":{"template":{"metadata":{"annotations":{"e2e/image":null}}}}}`
	if _, err := ri.Patch(s.t.Context(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

// getRun reads one AnalysisRun of the namespace.
func (s *suite) getRun(ctx context.Context, name string) (*v1alpha1.AnalysisRun, error) {
	runs, err := s.runs(ctx)
	if err != nil {
		return nil, err
	}
	for i := range runs {
		if runs[i].Name == name {
			return &runs[i], nil
		}
	}
	return nil, apierrors.NewNotFound(v1alpha1.GroupVersion().WithResource("analysisruns").GroupResource(), name)
}

// runYAML is a standalone AnalysisRun of one measurement of the test metric.
func runYAML(name, ttl string) string {
	return fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata: {name: %s}
spec:
  ttlStrategy: {%s}
  metrics:
  - name: gate
    count: 1
    successCondition: "result[0] < 1"
    provider: {plugin: {%s: {q: x}}}
`, name, ttl, metricName)
}

// TestAnalysisRunTTL: a Successful run with ttlStrategy.secondsAfterSuccess 2 is deleted about
// 3 s after completing (Argo: more than 2 whole seconds); one whose TTL has no value for its
// phase stays.
func TestAnalysisRunTTL(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.apply(runYAML("short", "secondsAfterSuccess: 2"))
	s.apply(runYAML("kept", "secondsAfterFailure: 1"))
	var completed time.Time
	framework.Eventually(t, 30*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		run, err := s.getRun(ctx, "short")
		if err != nil {
			return false, err
		}
		if run.Status.CompletedAt == nil {
			return false, fmt.Errorf("phase %q", run.Status.Phase)
		}
		completed = run.Status.CompletedAt.Time
		return run.Status.Phase == v1alpha1.AnalysisPhaseSuccessful, nil
	}, "run short Successful")
	framework.Eventually(t, 30*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		_, err := s.getRun(ctx, "short")
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}, "run short deleted by its TTL")
	if d := time.Since(completed); d < 2*time.Second {
		t.Errorf("deleted %s after completion, before the 2s TTL", d)
	}
	run, err := s.getRun(t.Context(), "kept")
	if err != nil || run.Status.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("run kept: %v, phase %q", err, run.Status.Phase)
	}
}

// TestRunHistoryLimits: successfulRunHistoryLimit 1 keeps only the newest Successful step run
// of the Rollout after three updates.
func TestRunHistoryLimits(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.services("hist", "hist-stable", "hist-canary")
	s.apply(templateYAML("health", "err-rate", "result[0] < 1", "", 1, 0))
	steps := "      - setWeight: 50\n      - analysis: {templates: [{templateName: health}], args: [{name: service, value: hist}]}\n"
	body := strings.Replace(rolloutYAML("hist", 1, trafficCanary("hist", steps)), "  revisionHistoryLimit: 3\n",
		"  revisionHistoryLimit: 3\n  analysis: {successfulRunHistoryLimit: 1}\n", 1)
	s.apply(body)
	s.waitRollout("hist", 60*time.Second, "initial deploy healthy", healthyAt(nil))
	for _, img := range []string{"v2", "v3", "v4"} {
		prev := ""
		if ro, err := s.rollout(t.Context(), "hist"); err == nil {
			prev = ro.Status.StableRS
		}
		s.setImage("hist", img)
		s.waitRollout("hist", 90*time.Second, img+" healthy", func(ro *v1alpha1.Rollout) bool {
			return healthyAt(nil)(ro) && ro.Status.StableRS != prev
		})
	}
	var seen []string
	err := framework.Poll(t.Context(), 30*time.Second, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		runs, err := s.runs(ctx)
		if err != nil {
			return false, err
		}
		seen = nil
		for _, r := range runs {
			seen = append(seen, r.Name+"="+string(r.Status.Phase))
		}
		return len(runs) == 1 && runs[0].Status.Phase == v1alpha1.AnalysisPhaseSuccessful && strings.Contains(runs[0].Name, "-4-"), nil
	})
	if err != nil {
		t.Fatalf("runs %v, want only the revision-4 run (older Successful runs deleted): %v", seen, err)
	}
}
