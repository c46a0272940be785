//go:build e2e

package rollout

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// TestInstanceIDPausedAndRestartAt: a Rollout labelled for another controller instance is left
// alone (Argo's controller-instance-id semantics); spec.paused stops a canary (phase Paused,
// "manually paused") until unpaused; spec.restartAt replaces every pod and sets
// status.restartedAt.
func TestInstanceIDPausedAndRestartAt(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	other := strings.Replace(rolloutYAML("other", 1, "      steps:\n      - setWeight: 50\n"),
		"  name: other\n", "  name: other\n  labels: {argo-rollouts.argoproj.io/controller-instance-id: argo}\n", 1)
	s.apply(other)

	s.apply(rolloutYAML("mine", 2, "      steps:\n      - setWeight: 50\n      - pause: {duration: 1s}\n"))
	s.waitRollout("mine", 60*time.Second, "initial deploy healthy", healthyAt(nil))
	if ro, err := s.rollout(t.Context(), "other"); err != nil || ro.Status.Phase != "" || ro.Status.CurrentPodHash != "" {
		t.Fatalf("a Rollout of another instance was reconciled: %+v %v", ro.Status, err)
	}

	s.patchRollout("mine", `{"spec":{"paused":true}}`)
	s.setImage("mine", "v2")
	ro := s.waitRollout("mine", 30*time.Second, "manually paused", phaseIs(v1alpha1.RolloutPhasePaused))
	if ro.Status.Message != "manually paused" || condition(ro, v1alpha1.RolloutPaused) == nil {
		t.Fatalf("message %q", ro.Status.Message)
	}
	s.patchRollout("mine", `{"spec":{"paused":false}}`)
	s.waitRollout("mine", 60*time.Second, "v2 healthy after unpause", healthyAt(nil))

	at := metav1.NewTime(time.Now().Add(time.Second).Truncate(time.Second))
	s.patchRollout("mine", fmt.Sprintf(`{"spec":{"restartAt":%q}}`, at.UTC().Format(time.RFC3339)))
	s.waitRollout("mine", 60*time.Second, "restarted", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.RestartedAt != nil && ro.Status.RestartedAt.Equal(&at) && ro.Status.Phase == v1alpha1.RolloutPhaseHealthy
	})
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		pods, err := s.env.Client.CoreV1().Pods(s.ns).List(ctx, metav1.ListOptions{LabelSelector: "app=mine"})
		if err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && p.CreationTimestamp.Before(&at) {
				return false, fmt.Errorf("pod %s older than restartAt", p.Name)
			}
		}
		return len(pods.Items) > 0, nil
	}, "every pod newer than restartAt")
}

func (s *suite) patchRollout(name, patch string) {
	s.t.Helper()
	ri, err := s.env.ResourceFor(v1alpha1.GroupVersionKind(v1alpha1.RolloutKind), s.ns)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := ri.Patch(s.t.Context(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		s.t.Fatalf("patch %s: %v", patch, err)
	}
}
