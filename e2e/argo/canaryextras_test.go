//go:build e2e

package argo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// canaryMetadataExtra: ephemeral labels for the canary and the stable pods.
const canaryMetadataExtra = `      canaryMetadata:
        labels: {role: canary}
      stableMetadata:
        labels: {role: stable}
`

// podRoles is "<v1|v2>:<role>" of every live pod of app (sorted) and each ReplicaSet's
// template role, with the pod hashes named v1/v2.
func (s *suite) podRoles(ctx context.Context, app string, names *strings.Replacer) (string, error) {
	pods, err := s.env.Client.CoreV1().Pods(s.ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return "", err
	}
	var out []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, names.Replace(p.Labels[v1alpha1.DefaultRolloutUniqueLabelKey])+":"+p.Labels["role"])
		}
	}
	sort.Strings(out)
	rss, err := s.env.Client.AppsV1().ReplicaSets(s.ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return "", err
	}
	var tmpl []string
	for _, rs := range rss.Items {
		tmpl = append(tmpl, fmt.Sprintf("%s(%d):%s", names.Replace(rs.Labels[v1alpha1.DefaultRolloutUniqueLabelKey]), *rs.Spec.Replicas, rs.Spec.Template.Labels["role"]))
	}
	sort.Strings(tmpl)
	return "pods[" + strings.Join(out, " ") + "] rs[" + strings.Join(tmpl, " ") + "]", nil
}

// waitPodRoles waits until podRoles is stable for two polls (pods created, relabelled or
// terminated) and returns it.
func (s *suite) waitPodRoles(app string, names *strings.Replacer, want func(string) bool) string {
	s.t.Helper()
	var last, prev string
	framework.Eventually(s.t, 60*time.Second, 300*time.Millisecond, func(ctx context.Context) (bool, error) {
		r, err := s.podRoles(ctx, app, names)
		if err != nil {
			return false, err
		}
		prev, last = last, r
		return r == prev && want(r), nil
	}, "pods and ReplicaSets of %s to settle (last %s)", app, lazyString{&last})
	return last
}

// runCanaryMetadata: v1 (stableMetadata on its pods), v2 paused at 50% (canaryMetadata on the
// canary's pods and template), promoted by the real CLI (stableMetadata on v2's pods); the pod
// and ReplicaSet roles and the CLI renderings at each checkpoint are the outcome.
func runCanaryMetadata(t *testing.T, kind controllerKind) outcome {
	t.Helper()
	s := newSuite(t, kind)
	s.env.Apply(t, rolloutYAML("meta", canaryMetadataExtra, pauseSteps))
	var v1 string
	s.waitRollout("meta", 90*time.Second, "v1 healthy", healthyAt(&v1))
	names := strings.NewReplacer(v1, "v1")
	o := outcome{Renders: []string{s.settledRender("meta")}}
	o.Values = append(o.Values, s.waitPodRoles("meta", names, func(r string) bool { return strings.Contains(r, "v1:stable") }))
	s.setImage("meta", "v2")
	ro := s.waitRollout("meta", 90*time.Second, "v2 paused at 50%", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Phase == v1alpha1.RolloutPhasePaused && ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex == 1
	})
	v2 := ro.Status.CurrentPodHash
	names = strings.NewReplacer(v1, "v1", v2, "v2")
	o.Values = append(o.Values, s.waitPodRoles("meta", names, func(r string) bool { return strings.Contains(r, "v2:canary") }))
	o.Renders = append(o.Renders, s.settledRender("meta"))
	s.argoCLI("promote", "meta")
	ro = s.waitRollout("meta", 90*time.Second, "v2 healthy", func(ro *v1alpha1.Rollout) bool {
		return healthyAt(nil)(ro) && ro.Status.StableRS == v2
	})
	o.Values = append(o.Values, s.waitPodRoles("meta", names, func(r string) bool {
		return strings.Contains(r, "v2:stable") && !strings.Contains(r, "v1:") && !strings.Contains(r, "v2:canary")
	}))
	o.Renders = append(o.Renders, s.settledRender("meta"))
	o.Phase, o.Abort, o.Promoted, o.Message = ro.Status.Phase, ro.Status.Abort, true, s.normalize(ro.Status.Message)
	o.Values = append(o.Values, fmt.Sprintf("replicas=%d/%d/%d", ro.Status.Replicas, ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas))
	return o
}

// runRollbackWindow: v1, v2 (promoted through the pause by the CLI), then `kubectl argo
// rollouts undo` back to v1 with rollbackWindow.revisions 1: the steps are skipped (no pause)
// and v1 is stable again.
func runRollbackWindow(t *testing.T, kind controllerKind) outcome {
	t.Helper()
	s := newSuite(t, kind)
	body := strings.Replace(rolloutYAML("win", "", pauseSteps), "  revisionHistoryLimit: 3\n", "  revisionHistoryLimit: 3\n  rollbackWindow: {revisions: 1}\n", 1)
	s.env.Apply(t, body)
	var v1 string
	s.waitRollout("win", 90*time.Second, "v1 healthy", healthyAt(&v1))
	// creationTimestamps (which the window compares) have one-second resolution
	time.Sleep(1100 * time.Millisecond)
	s.setImage("win", "v2")
	s.waitRollout("win", 90*time.Second, "v2 paused", func(ro *v1alpha1.Rollout) bool { return ro.Status.Phase == v1alpha1.RolloutPhasePaused })
	s.argoCLI("promote", "win")
	ro := s.waitRollout("win", 90*time.Second, "v2 healthy", func(ro *v1alpha1.Rollout) bool {
		return healthyAt(nil)(ro) && ro.Status.StableRS != v1
	})
	v2 := ro.Status.StableRS
	o := outcome{Renders: []string{s.settledRender("win")}}
	s.argoCLI("undo", "win")
	ro = s.waitRollout("win", 90*time.Second, "rolled back to v1 without a pause", func(ro *v1alpha1.Rollout) bool {
		return healthyAt(nil)(ro) && ro.Status.StableRS == v1
	})
	o.Renders = append(o.Renders, s.settledRender("win"))
	o.Phase, o.Abort, o.Promoted, o.Message = ro.Status.Phase, ro.Status.Abort, ro.Status.StableRS == v1, s.normalize(ro.Status.Message)
	names := strings.NewReplacer(v1, "v1", v2, "v2")
	o.Values = append(o.Values, fmt.Sprintf("step=%d", *ro.Status.CurrentStepIndex), "stable="+names.Replace(ro.Status.StableRS),
		fmt.Sprintf("replicas=%d/%d/%d", ro.Status.Replicas, ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas))
	o.Values = append(o.Values, s.rolloutEvents(t.Context(), "win", "SkipSteps", "RolloutCompleted"))
	return o
}

// rolloutEvents lists the Rollout's events of the given reasons (reason: message), sorted, with
// the pod hashes dropped.
func (s *suite) rolloutEvents(ctx context.Context, name string, reasons ...string) string {
	s.t.Helper()
	evs, err := s.env.Client.CoreV1().Events(s.ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, e := range evs.Items {
		for _, r := range reasons {
			if e.Reason == r {
				msg := e.Message
				if i := strings.Index(msg, " ("); i >= 0 && strings.Contains(msg, "): ") {
					msg = msg[:i] + msg[strings.Index(msg, "): ")+1:]
				}
				out = append(out, r+": "+msg)
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// TestCanaryExtrasArgoVsNerve: canaryMetadata/stableMetadata and rollbackWindow under the real
// Argo controller and under nerve's loop end in equal phases, messages, pod and ReplicaSet
// labels, replica counts, events and `kubectl argo rollouts get rollout` renderings.
func TestCanaryExtrasArgoVsNerve(t *testing.T) {
	cases := []analysisCase{
		{name: "canary-metadata", phase: v1alpha1.RolloutPhaseHealthy},
		{name: "rollback-window", phase: v1alpha1.RolloutPhaseHealthy},
	}
	compareOutcomes(t, false, cases, func(t *testing.T, kind controllerKind, c analysisCase) outcome {
		if c.name == "canary-metadata" {
			return runCanaryMetadata(t, kind)
		}
		return runRollbackWindow(t, kind)
	})
}
