//go:build e2e

package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

func deploymentYAML(name string, replicas int) string {
	return fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
      - name: app
        image: registry.k8s.io/pause:3.10
        ports: [{containerPort: 8080, name: http}]
---
apiVersion: v1
kind: Service
metadata:
  name: %[1]s
spec:
  selector: {app: %[1]s}
  ports: [{name: http, port: 80, targetPort: http}]
`, name, replicas)
}

func TestServerVersionMatchesClientGo(t *testing.T) {
	env := framework.New(t)
	v, err := env.Client.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != "v1.37.2" {
		t.Fatalf("server version %q, want v1.37.2", v.GitVersion)
	}
}

func TestDeploymentBecomesReadyOnFakeNodes(t *testing.T) {
	env := framework.New(t)
	env.Apply(t, deploymentYAML("web", 3))
	framework.Eventually(t, 60*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		d, err := env.Client.AppsV1().Deployments(env.Namespace).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return d.Status.ReadyReplicas == 3 && d.Status.AvailableReplicas == 3, nil
	}, "deployment web to have 3 ready replicas")

	pods, err := env.Client.CoreV1().Pods(env.Namespace).List(t.Context(), metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 3 {
		t.Fatalf("%d pods, want 3", len(pods.Items))
	}
	for _, p := range pods.Items {
		if !strings.HasPrefix(p.Spec.NodeName, "kwok-node-") {
			t.Errorf("pod %s scheduled on %q, want a kwok node", p.Name, p.Spec.NodeName)
		}
		if p.Status.Phase != corev1.PodRunning || !podReady(&p) {
			t.Errorf("pod %s: phase %s ready %v", p.Name, p.Status.Phase, podReady(&p))
		}
	}
}

func TestRollingUpdateCompletes(t *testing.T) {
	env := framework.New(t)
	env.Apply(t, deploymentYAML("roll", 3))
	waitRolledOut(t, env, "roll")
	d, err := env.Client.AppsV1().Deployments(env.Namespace).Get(t.Context(), "roll", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].Image = "registry.k8s.io/pause:3.9"
	if _, err := env.Client.AppsV1().Deployments(env.Namespace).Update(t.Context(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Speed is measured by benchmarks, not here; the deadline only bounds a hang.
	framework.Eventually(t, 60*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		return rolledOut(ctx, env, "roll")
	}, "deployment roll to roll out the new image")
}

func waitRolledOut(t *testing.T, env *framework.Env, name string) {
	t.Helper()
	framework.Eventually(t, 60*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		return rolledOut(ctx, env, name)
	}, "deployment %s rolled out", name)
}

func rolledOut(ctx context.Context, env *framework.Env, name string) (bool, error) {
	d, err := env.Client.AppsV1().Deployments(env.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == *d.Spec.Replicas &&
		s.AvailableReplicas == *d.Spec.Replicas && s.Replicas == *d.Spec.Replicas, nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func TestServiceGetsEndpointSlices(t *testing.T) {
	env := framework.New(t)
	env.Apply(t, deploymentYAML("svc", 3))
	waitRolledOut(t, env, "svc")

	var want []string
	framework.Eventually(t, 30*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		pods, err := env.Client.CoreV1().Pods(env.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=svc"})
		if err != nil {
			return false, err
		}
		want = want[:0]
		for _, p := range pods.Items {
			if p.Status.PodIP == "" {
				return false, nil
			}
			want = append(want, p.Status.PodIP)
		}
		return len(want) == 3, nil
	}, "3 pod IPs")
	slices.Sort(want)

	var got []string
	framework.Eventually(t, 30*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		list, err := env.Client.DiscoveryV1().EndpointSlices(env.Namespace).List(ctx,
			metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=svc"})
		if err != nil {
			return false, err
		}
		got = readyAddresses(list.Items)
		return slices.Equal(got, want), nil
	}, "EndpointSlices of service svc to list the pod IPs %v (last seen %v)", want, &got)
}

func readyAddresses(items []discoveryv1.EndpointSlice) []string {
	var out []string
	for _, s := range items {
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
				out = append(out, ep.Addresses...)
			}
		}
	}
	slices.Sort(out)
	return out
}
