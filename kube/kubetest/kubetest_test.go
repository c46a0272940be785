package kubetest

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nerve-rollouts/nerve/kube"
)

// The fake answers what the typed fake client answers: seeded objects, label-filtered lists,
// patches applied, reactors first, actions recorded.
func TestResourceServesTheFakeClientset(t *testing.T) {
	ctx := context.Background()
	pod := func(name, app string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{"app": app}}}
	}
	cs := kubefake.NewClientset(pod("a", "web"), pod("b", "db"))
	var pods kube.API = New(&cs.Fake, corev1.SchemeGroupVersion.WithResource("pods"), "Pod")

	got := &corev1.Pod{}
	if err := pods.Get(ctx, "ns", "a", got); err != nil || got.Labels["app"] != "web" {
		t.Fatalf("get: %+v %v", got, err)
	}
	list := &corev1.PodList{}
	if err := pods.List(ctx, "ns", metav1.ListOptions{LabelSelector: "app=db"}, list); err != nil || len(list.Items) != 1 || list.Items[0].Name != "b" {
		t.Fatalf("list app=db: %+v %v", list.Items, err)
	}
	if err := pods.Create(ctx, "ns", pod("c", "web"), &corev1.Pod{}); err != nil {
		t.Fatal(err)
	}
	if err := pods.List(ctx, "ns", metav1.ListOptions{LabelSelector: "app=web"}, list); err != nil || len(list.Items) != 2 {
		t.Fatalf("list app=web after create: %+v %v", list.Items, err)
	}
	if err := pods.Patch(ctx, "ns", "a", types.MergePatchType, []byte(`{"metadata":{"labels":{"app":"api"}}}`), got); err != nil || got.Labels["app"] != "api" {
		t.Fatalf("patch: %+v %v", got.Labels, err)
	}
	if err := pods.Delete(ctx, "ns", "b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pods.Get(ctx, "ns", "b", got); err == nil {
		t.Fatal("b still there after delete")
	}
	cs.PrependReactor("get", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("etcd is down")
	})
	if err := pods.Get(ctx, "ns", "a", got); err == nil || err.Error() != "etcd is down" {
		t.Fatalf("reactor: %v", err)
	}
	verbs := ""
	for _, a := range cs.Actions() {
		verbs += a.GetVerb() + " "
	}
	if verbs != "get list create list patch delete get get " {
		t.Errorf("actions %q", verbs)
	}
	if err := New(&cs.Fake, corev1.SchemeGroupVersion.WithResource("pods"), "Pod").List(ctx, "ns", metav1.ListOptions{}, &corev1.Pod{}); err == nil {
		t.Error("a list into a Pod: no error")
	}
}
