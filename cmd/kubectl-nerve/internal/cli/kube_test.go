package cli

import (
	"context"
	"net/http"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/nerve-rollouts/nerve/kube/kubetest"
)

// Kube's calls are the requests client-go's typed clientset (and its discovery client) makes
// for the same calls: method, path, query, content types, user agent and body.
func TestKubeMakesTheTypedClientsetsRequests(t *testing.T) {
	ctx := context.Background()
	rec := kubetest.NewRecorder(t, func(r *http.Request) (int, string) {
		if r.URL.Path == "/apis/argoproj.io/v1alpha1" {
			return http.StatusOK, `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"argoproj.io/v1alpha1","resources":[{"name":"rollouts","kind":"Rollout","namespaced":true}]}`
		}
		return http.StatusOK, `{"kind":"Status","apiVersion":"v1","status":"Success"}`
	})
	typed, err := kubernetes.NewForConfig(rec.Config())
	if err != nil {
		t.Fatal(err)
	}
	lean, err := newKube(rec.Config())
	if err != nil {
		t.Fatal(err)
	}
	ssar := &authv1.SelfSubjectAccessReview{Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authv1.ResourceAttributes{
		Namespace: "ns", Verb: "patch", Group: "argoproj.io", Resource: "rollouts", Subresource: "status"}}}
	sel := metav1.ListOptions{LabelSelector: "app=web"}
	cases := []struct {
		name        string
		typed, lean func() error
	}{
		{"list replicasets", func() error { _, err := typed.AppsV1().ReplicaSets("ns").List(ctx, sel); return err },
			func() error { return lean.ReplicaSets.List(ctx, "ns", sel, &appsv1.ReplicaSetList{}) }},
		{"list pods", func() error { _, err := typed.CoreV1().Pods("ns").List(ctx, sel); return err },
			func() error { return lean.Pods.List(ctx, "ns", sel, &corev1.PodList{}) }},
		{"list events", func() error {
			_, err := typed.CoreV1().Events("ns").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.uid=u1"})
			return err
		}, func() error {
			return lean.Events.List(ctx, "ns", metav1.ListOptions{FieldSelector: "involvedObject.uid=u1"}, &corev1.EventList{})
		}},
		{"get configmap", func() error {
			_, err := typed.CoreV1().ConfigMaps("argo-rollouts").Get(ctx, "argo-rollouts-config", metav1.GetOptions{})
			return err
		}, func() error {
			return lean.ConfigMaps.Get(ctx, "argo-rollouts", "argo-rollouts-config", &corev1.ConfigMap{})
		}},
		{"get namespace", func() error { _, err := typed.CoreV1().Namespaces().Get(ctx, "nerve", metav1.GetOptions{}); return err },
			func() error { return lean.Namespaces.Get(ctx, "", "nerve", &corev1.Namespace{}) }},
		{"list namespaces", func() error { _, err := typed.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); return err },
			func() error { return lean.Namespaces.List(ctx, "", metav1.ListOptions{}, &corev1.NamespaceList{}) }},
		{"access review", func() error {
			_, err := typed.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, ssar, metav1.CreateOptions{})
			return err
		}, func() error {
			_, err := accessReviews{lean.AccessReviews}.Create(ctx, ssar, metav1.CreateOptions{})
			return err
		}},
		{"discovery", func() error {
			_, err := typed.Discovery().ServerResourcesForGroupVersion("argoproj.io/v1alpha1")
			return err
		},
			func() error { _, err := lean.Resources(ctx, "argoproj.io/v1alpha1"); return err }},
	}
	for _, tc := range cases {
		kubetest.SameRequest(t, rec, tc.name, tc.typed, tc.lean)
	}
}

// A group-version the API server does not serve fails discovery with the discovery client's
// error; doctor prints it.
func TestKubeResourcesErrorIsDiscoverys(t *testing.T) {
	rec := kubetest.NewRecorder(t, func(*http.Request) (int, string) {
		return http.StatusNotFound, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}`
	})
	typed, err := kubernetes.NewForConfig(rec.Config())
	if err != nil {
		t.Fatal(err)
	}
	lean, err := newKube(rec.Config())
	if err != nil {
		t.Fatal(err)
	}
	_, want := typed.Discovery().ServerResourcesForGroupVersion("argoproj.io/v1alpha1")
	_, got := lean.Resources(context.Background(), "argoproj.io/v1alpha1")
	if want == nil || got == nil || got.Error() != want.Error() {
		t.Errorf("error %v; want %v", got, want)
	}
	// a missing core v1 is an empty list, as in discovery
	if l, err := lean.Resources(context.Background(), "v1"); err != nil || len(l.APIResources) != 0 {
		t.Errorf("v1: %v %v", l, err)
	}
}
