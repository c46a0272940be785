//go:build e2e

package rollout

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// TestArgoOnlyStatusSurvivesNerve: status fields of Argo's types that nerve does not model
// (status.alb, status.canary.stablePingPong), written through the status subresource as Argo's
// controller would, are still there after nerve's loop has reconciled a whole new revision
// (nerve patches only the status fields it owns).
func TestArgoOnlyStatusSurvivesNerve(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.apply(rolloutYAML("shared", 2, "      steps:\n      - setWeight: 50\n      - pause: {duration: 1s}\n"))
	s.waitRollout("shared", 60*time.Second, "initial deploy healthy", healthyAt(nil))
	s.patchStatus("shared", `{"status":{"alb":{"loadBalancer":{"name":"lb","arn":"arn:x"}},"canary":{"stablePingPong":"ping"}}}`)
	argoOnly(t, s, "after the status write") // the CRD keeps them
	s.setImage("shared", "v2")
	var v2 string
	s.waitRollout("shared", 60*time.Second, "v2 healthy", healthyAt(&v2))
	argoOnly(t, s, "after nerve reconciled v2")
}

func argoOnly(t *testing.T, s *suite, when string) {
	t.Helper()
	ri, err := s.env.ResourceFor(v1alpha1.GroupVersionKind(v1alpha1.RolloutKind), s.ns)
	if err != nil {
		t.Fatal(err)
	}
	u, err := ri.Get(t.Context(), "shared", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lb, _, _ := unstructured.NestedString(u.Object, "status", "alb", "loadBalancer", "name")
	pp, _, _ := unstructured.NestedString(u.Object, "status", "canary", "stablePingPong")
	if lb != "lb" || pp != "ping" {
		t.Fatalf("%s: status.alb.loadBalancer.name %q, status.canary.stablePingPong %q; want lb and ping (status %v)", when, lb, pp, u.Object["status"])
	}
}

// TestRestartHonoursPodDisruptionBudget: spec.restartAt evicts pods through the Eviction API:
// while a real PodDisruptionBudget (minAvailable = all replicas, so the disruption controller
// allows 0 disruptions) refuses, no pod is restarted and status.restartedAt stays unset; once the
// budget allows one disruption the pods are replaced and restartedAt is set.
func TestRestartHonoursPodDisruptionBudget(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.apply(rolloutYAML("pdb", 2, "      steps:\n      - setWeight: 50\n"))
	s.waitRollout("pdb", 60*time.Second, "initial deploy healthy", healthyAt(nil))
	pdbs := s.env.Client.PolicyV1().PodDisruptionBudgets(s.ns)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "pdb"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptrIntstr(intstr.FromInt32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "pdb"}}}}
	if _, err := pdbs.Create(t.Context(), pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		p, err := pdbs.Get(ctx, "pdb", metav1.GetOptions{})
		return err == nil && p.Status.ObservedGeneration == p.Generation && p.Status.CurrentHealthy == 2 && p.Status.DisruptionsAllowed == 0, err
	}, "the disruption controller allows no disruption")
	before := podNames(t, s, "pdb")

	// restartAt has one-second resolution and, as in Argo, only pods created before it are
	// restarted: wait for a second after the newest pod's, or the pods count as restarted already.
	newest := newestPodCreation(t, s, "pdb")
	for !newest.Before(time.Now().Truncate(time.Second)) {
		time.Sleep(50 * time.Millisecond)
	}
	at := metav1.NewTime(time.Now().Truncate(time.Second))
	s.patchRollout("pdb", fmt.Sprintf(`{"spec":{"restartAt":%q}}`, at.UTC().Format(time.RFC3339)))
	time.Sleep(5 * time.Second) // the loop retries every second; the budget must hold it off all along
	if ro, err := s.rollout(t.Context(), "pdb"); err != nil || ro.Status.RestartedAt != nil {
		t.Fatalf("restartedAt %v (%v) while the PodDisruptionBudget refuses every eviction", ro.Status.RestartedAt, err)
	}
	if after := podNames(t, s, "pdb"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("pods %v became %v while the PodDisruptionBudget refuses every eviction", before, after)
	}

	p, err := pdbs.Get(t.Context(), "pdb", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Spec.MinAvailable = ptrIntstr(intstr.FromInt32(1))
	if _, err := pdbs.Update(t.Context(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	s.waitRollout("pdb", 90*time.Second, "restarted once the budget allows", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.RestartedAt != nil && ro.Status.RestartedAt.Equal(&at) && ro.Status.Phase == v1alpha1.RolloutPhaseHealthy
	})
	for _, n := range podNames(t, s, "pdb") {
		for _, b := range before {
			if n == b {
				t.Fatalf("pod %s survived the restart", n)
			}
		}
	}
}

func ptrIntstr(v intstr.IntOrString) *intstr.IntOrString { return &v }

// newestPodCreation is the latest creationTimestamp among the pods of app.
func newestPodCreation(t *testing.T, s *suite, app string) time.Time {
	t.Helper()
	pods, err := s.env.Client.CoreV1().Pods(s.ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	var newest time.Time
	for _, p := range pods.Items {
		if c := p.CreationTimestamp.Time; c.After(newest) {
			newest = c
		}
	}
	return newest
}

// podNames lists the live (not terminating) pods of app.
func podNames(t *testing.T, s *suite, app string) []string {
	t.Helper()
	pods, err := s.env.Client.CoreV1().Pods(s.ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			out = append(out, p.Name)
		}
	}
	return out
}
