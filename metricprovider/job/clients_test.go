package job

import (
	"context"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/nerve-rollouts/nerve/kube/kubetest"
)

// NewClients makes the requests client-go's typed clientset makes for the provider's calls:
// method, path, query, content types, user agent and body.
func TestClientsMakeTheTypedClientsetsRequests(t *testing.T) {
	ctx := context.Background()
	rec := kubetest.NewRecorder(t, nil)
	cfg := rec.Config()
	cfg.UserAgent = "nerve-job"
	typed, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lean, err := NewClients(cfg)
	if err != nil {
		t.Fatal(err)
	}
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "uid.smoke.1", Labels: map[string]string{AnalysisRunUIDLabelKey: "uid"}}}
	fg := metav1.DeletePropagationForeground
	del := metav1.DeleteOptions{PropagationPolicy: &fg}
	sel := metav1.ListOptions{LabelSelector: AnalysisRunUIDLabelKey + "=uid"}
	cases := []struct {
		name        string
		typed, lean func() error
	}{
		{"create job", func() error {
			_, err := typed.BatchV1().Jobs("ns").Create(ctx, job, metav1.CreateOptions{})
			return err
		},
			func() error { return lean.Jobs.Create(ctx, "ns", job, &batchv1.Job{}) }},
		{"get job", func() error { _, err := typed.BatchV1().Jobs("ns").Get(ctx, job.Name, metav1.GetOptions{}); return err },
			func() error { return lean.Jobs.Get(ctx, "ns", job.Name, &batchv1.Job{}) }},
		{"list jobs", func() error { _, err := typed.BatchV1().Jobs("ns").List(ctx, sel); return err },
			func() error { return lean.Jobs.List(ctx, "ns", sel, &batchv1.JobList{}) }},
		{"delete job", func() error { return typed.BatchV1().Jobs("ns").Delete(ctx, job.Name, del) },
			func() error { return lean.Jobs.Delete(ctx, "ns", job.Name, del) }},
		{"list pods", func() error { _, err := typed.CoreV1().Pods("ns").List(ctx, sel); return err },
			func() error { return lean.Pods.List(ctx, "ns", sel, &corev1.PodList{}) }},
	}
	for _, tc := range cases {
		kubetest.SameRequest(t, rec, tc.name, tc.typed, tc.lean)
	}
}
