package job

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/kube/kubetest"
)

const runUID = "6f1c2b8e-0d7a-4c55-9a1e-3b2f8d9c0a11"

const jobConfig = `{"metadata":{"labels":{"team":"fhir"},"annotations":{"note":"smoke"}},
 "spec":{"backoffLimit":0,"template":{"metadata":{"labels":{"app":"smoke"}},
  "spec":{"restartPolicy":"Never","containers":[{"name":"smoke","image":"busybox","command":["true"]}]}}}}`

func testRun() *v1alpha1.AnalysisRun {
	run := &v1alpha1.AnalysisRun{}
	run.Name, run.Namespace, run.UID = "fhir-7d9f-2", "clinical", runUID
	return run
}

func testMetric(name, cfg string) v1alpha1.Metric {
	return v1alpha1.Metric{Name: name, Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{DefaultName: json.RawMessage(cfg)}}}
}

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newProvider(objs ...runtime.Object) (*Provider, *fake.Clientset, *clock) {
	c := fake.NewClientset(objs...)
	clk := &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	return New(Options{Client: fakeClients(c), Now: clk.now}), c, clk
}

// fakeClients are the provider's Clients over the fake clientset c.
func fakeClients(c *fake.Clientset) *Clients {
	return &Clients{Jobs: kubetest.New(&c.Fake, batchv1.SchemeGroupVersion.WithResource("jobs"), "Job"),
		Pods: kubetest.New(&c.Fake, corev1.SchemeGroupVersion.WithResource("pods"), "Pod")}
}

func TestRunCreatesArgosJob(t *testing.T) {
	p, c, _ := newProvider()
	run := testRun()
	run.Status.MetricResults = []v1alpha1.MetricResult{{Name: "smoke", Count: 2, Error: 1}}
	meas, err := p.Run(t.Context(), run, testMetric("smoke", jobConfig))
	if err != nil || meas.Phase != v1alpha1.AnalysisPhaseRunning || meas.ResumeAt == nil || meas.FinishedAt != nil {
		t.Fatalf("Run = %+v, %v", meas, err)
	}
	name := runUID + ".smoke.4"
	if meas.Metadata[JobNameKey] != name || meas.Metadata[JobNamespaceKey] != "clinical" {
		t.Fatalf("metadata %v", meas.Metadata)
	}
	job, err := c.BatchV1().Jobs("clinical").Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if job.Labels["team"] != "fhir" || job.Labels[AnalysisRunUIDLabelKey] != runUID || job.Spec.Template.Labels[AnalysisRunUIDLabelKey] != runUID || job.Spec.Template.Labels["app"] != "smoke" {
		t.Fatalf("labels %v, pod labels %v", job.Labels, job.Spec.Template.Labels)
	}
	want := map[string]string{"note": "smoke", AnalysisRunNameAnnotationKey: "fhir-7d9f-2", AnalysisRunNamespaceAnnotationKey: "clinical", AnalysisRunMetricAnnotationKey: "smoke"}
	for k, v := range want {
		if job.Annotations[k] != v {
			t.Fatalf("annotation %s = %q, want %q (all: %v)", k, job.Annotations[k], v, job.Annotations)
		}
	}
	ref := metav1.GetControllerOf(job)
	if ref == nil || ref.Kind != "AnalysisRun" || ref.APIVersion != "argoproj.io/v1alpha1" || ref.Name != run.Name || ref.UID != run.UID || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Fatalf("owner %+v", ref)
	}
	if *job.Spec.BackoffLimit != 0 || job.Spec.Template.Spec.Containers[0].Image != "busybox" {
		t.Fatalf("spec %+v", job.Spec)
	}
}

func TestJobName(t *testing.T) {
	run := testRun()
	if got := JobName(run, "smoke"); got != runUID+".smoke.1" {
		t.Fatalf("first = %q", got)
	}
	long := strings.Repeat("m", 40)
	got := JobName(run, long)
	if len(got) != 63 || !strings.HasPrefix(got, runUID+".mmm") || !strings.HasSuffix(got, "m.1") {
		t.Fatalf("long = %q (%d)", got, len(got))
	}
}

func TestRunAdoptsOwnJobAndRefusesForeign(t *testing.T) {
	p, c, _ := newProvider()
	run := testRun()
	m := testMetric("smoke", jobConfig)
	if meas, _ := p.Run(t.Context(), run, m); meas.Phase != v1alpha1.AnalysisPhaseRunning {
		t.Fatalf("first Run: %+v", meas)
	}
	if meas, _ := p.Run(t.Context(), run, m); meas.Phase != v1alpha1.AnalysisPhaseRunning || meas.Metadata[JobNameKey] != runUID+".smoke.1" {
		t.Fatalf("retried Run did not adopt: %+v", meas)
	}
	job, _ := c.BatchV1().Jobs("clinical").Get(t.Context(), runUID+".smoke.1", metav1.GetOptions{})
	job.OwnerReferences[0].UID = "someone-else"
	if _, err := c.BatchV1().Jobs("clinical").Update(t.Context(), job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	meas, _ := p.Run(t.Context(), run, m)
	if meas.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(meas.Message, "not owned by this AnalysisRun") {
		t.Fatalf("foreign job: %+v", meas)
	}
}

func TestResume(t *testing.T) {
	tests := []struct {
		name   string
		status batchv1.JobStatus
		pod    *corev1.Pod
		phase  v1alpha1.AnalysisPhase
		msg    string
	}{
		{"complete", batchv1.JobStatus{Succeeded: 1, Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue}, {Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}},
			nil, v1alpha1.AnalysisPhaseSuccessful, "completed (succeeded: 1)"},
		{"failed", batchv1.JobStatus{Failed: 1, Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}}},
			nil, v1alpha1.AnalysisPhaseFailed, "failed (failed: 1): BackoffLimitExceeded Job has reached"},
		{"condition not true", batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionFalse}}},
			nil, v1alpha1.AnalysisPhaseRunning, ""},
		{"running", batchv1.JobStatus{Active: 1}, nil, v1alpha1.AnalysisPhaseRunning, ""},
		{"image pull", batchv1.JobStatus{Active: 1}, stuckPod("ImagePullBackOff"), v1alpha1.AnalysisPhaseInconclusive,
			"Pod smoke-x, container smoke has terminal error (ImagePullBackOff): back-off pulling"},
		{"waiting, not terminal", batchv1.JobStatus{Active: 1}, stuckPod("ContainerCreating"), v1alpha1.AnalysisPhaseRunning, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c, clk := newProvider()
			run := testRun()
			meas, _ := p.Run(t.Context(), run, testMetric("smoke", jobConfig))
			name := meas.Metadata[JobNameKey]
			job, _ := c.BatchV1().Jobs("clinical").Get(t.Context(), name, metav1.GetOptions{})
			job.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/job-name": name}}
			job.Status = tt.status
			if _, err := c.BatchV1().Jobs("clinical").Update(t.Context(), job, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			if tt.pod != nil {
				tt.pod.Labels = map[string]string{"batch.kubernetes.io/job-name": name}
				if _, err := c.CoreV1().Pods("clinical").Create(t.Context(), tt.pod, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			clk.t = clk.t.Add(50 * time.Second)
			got, err := p.Resume(t.Context(), run, testMetric("smoke", jobConfig), meas)
			if err != nil || got.Phase != tt.phase || !strings.Contains(got.Message, tt.msg) {
				t.Fatalf("Resume = %s %q, %v; want %s %q", got.Phase, got.Message, err, tt.phase, tt.msg)
			}
			if tt.phase == v1alpha1.AnalysisPhaseRunning {
				// Argo's delay: sqrt(2 × 50s) = 10s after now.
				if got.FinishedAt != nil || got.ResumeAt == nil || !got.ResumeAt.Time.Equal(clk.t.Add(10*time.Second)) {
					t.Fatalf("running: finished %v, resumeAt %v (now %v)", got.FinishedAt, got.ResumeAt, clk.t)
				}
			} else if got.FinishedAt == nil || got.ResumeAt != nil {
				t.Fatalf("finished measurement: finishedAt %v resumeAt %v", got.FinishedAt, got.ResumeAt)
			}
		})
	}
}

func stuckPod(reason string) *corev1.Pod {
	pod := &corev1.Pod{}
	pod.Name, pod.Namespace = "smoke-x", "clinical"
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "smoke", State: corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "back-off pulling image busybox"}}}}
	return pod
}

func TestResumeErrors(t *testing.T) {
	p, _, _ := newProvider()
	run := testRun()
	got, _ := p.Resume(t.Context(), run, v1alpha1.Metric{}, v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning})
	if got.Phase != v1alpha1.AnalysisPhaseError || got.Message != "job metadata reference missing" {
		t.Fatalf("no metadata: %s %q", got.Phase, got.Message)
	}
	got, _ = p.Resume(t.Context(), run, v1alpha1.Metric{}, v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning, Metadata: map[string]string{JobNameKey: "gone"}})
	if got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, `job clinical/gone: jobs.batch "gone" not found`) {
		t.Fatalf("gone: %s %q", got.Phase, got.Message)
	}
}

func TestTerminateDeletesJob(t *testing.T) {
	p, c, _ := newProvider()
	run := testRun()
	meas, _ := p.Run(t.Context(), run, testMetric("smoke", jobConfig))
	got, err := p.Terminate(t.Context(), run, v1alpha1.Metric{}, meas)
	if err != nil || got.Phase != v1alpha1.AnalysisPhaseInconclusive || got.FinishedAt == nil {
		t.Fatalf("Terminate = %+v, %v", got, err)
	}
	if _, err := c.BatchV1().Jobs("clinical").Get(t.Context(), meas.Metadata[JobNameKey], metav1.GetOptions{}); err == nil {
		t.Fatal("job still exists after Terminate")
	}
	var propagation *metav1.DeletionPropagation
	for _, a := range c.Actions() {
		if d, ok := a.(k8stesting.DeleteActionImpl); ok {
			propagation = d.DeleteOptions.PropagationPolicy
		}
	}
	if propagation == nil || *propagation != metav1.DeletePropagationForeground {
		t.Fatalf("delete propagation %v, want Foreground", propagation)
	}
	// Terminating a running measurement whose Job is gone is fine.
	if got, _ := p.Terminate(t.Context(), run, v1alpha1.Metric{}, meas); got.Phase != v1alpha1.AnalysisPhaseInconclusive {
		t.Fatalf("second Terminate: %s %q", got.Phase, got.Message)
	}
	// A finished measurement is returned unchanged, its Job kept.
	meas, _ = p.Run(t.Context(), run, testMetric("other", jobConfig))
	finished := meas
	finished.Phase, finished.FinishedAt = v1alpha1.AnalysisPhaseSuccessful, meas.StartedAt
	if got, _ := p.Terminate(t.Context(), run, v1alpha1.Metric{}, finished); got.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("Terminate of a finished measurement: %s %q", got.Phase, got.Message)
	}
	if _, err := c.BatchV1().Jobs("clinical").Get(t.Context(), meas.Metadata[JobNameKey], metav1.GetOptions{}); err != nil {
		t.Fatalf("the finished measurement's Job was deleted: %v", err)
	}
}

func TestGarbageCollectKeepsNewestPerMetric(t *testing.T) {
	base := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	var objs []runtime.Object
	mk := func(metric string, i int, at time.Time, uid string) {
		j := &batchv1.Job{}
		j.Namespace, j.Name = "clinical", uid+"."+metric+"."+strconv.Itoa(i)
		j.CreationTimestamp = metav1.NewTime(at)
		j.Labels = map[string]string{AnalysisRunUIDLabelKey: uid}
		j.Annotations = map[string]string{AnalysisRunMetricAnnotationKey: metric}
		objs = append(objs, j)
	}
	for i := 1; i <= 12; i++ {
		mk("smoke", i, base.Add(time.Duration(i/3)*time.Second), runUID) // equal timestamps: the index decides
	}
	mk("other", 1, base, runUID)
	mk("smoke", 1, base, "another-run")
	p, c, _ := newProvider(objs...)
	if err := p.GarbageCollect(t.Context(), testRun(), v1alpha1.Metric{Name: "smoke"}, 10); err != nil {
		t.Fatal(err)
	}
	list, _ := c.BatchV1().Jobs("clinical").List(t.Context(), metav1.ListOptions{})
	left := map[string]bool{}
	for _, j := range list.Items {
		left[j.Name] = true
	}
	for _, gone := range []string{runUID + ".smoke.1", runUID + ".smoke.2"} {
		if left[gone] {
			t.Errorf("%s not collected", gone)
		}
	}
	for _, kept := range []string{runUID + ".smoke.3", runUID + ".smoke.12", runUID + ".other.1", "another-run.smoke.1"} {
		if !left[kept] {
			t.Errorf("%s collected", kept)
		}
	}
	if len(left) != 12 {
		t.Errorf("%d jobs left, want 12: %v", len(left), left)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ cfg, want string }{
		{`null`, "config is empty"},
		{`{"spec":{"template":{"spec":{"restartPolicy":"Never"}}}}`, "spec.template.spec.containers: a Job needs at least one container"},
		{`{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"b"}]}}}}`, `spec.template.spec.restartPolicy: "" must be Never or OnFailure`},
		{`{"spec":{"backofLimit":1}}`, `unknown field "backofLimit"`},
	}
	for _, tt := range tests {
		p, _, _ := newProvider()
		got, _ := p.Run(t.Context(), testRun(), testMetric("smoke", tt.cfg))
		if got.Phase != v1alpha1.AnalysisPhaseError || !strings.HasPrefix(got.Message, `provider.plugin["nerve/job"]: `) || !strings.Contains(got.Message, tt.want) {
			t.Errorf("%s: got %s %q, want %q", tt.cfg, got.Phase, got.Message, tt.want)
		}
	}
	p, _, _ := newProvider()
	got, _ := p.Run(t.Context(), &v1alpha1.AnalysisRun{}, testMetric("smoke", jobConfig))
	if got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, "no uid or namespace") {
		t.Errorf("run without uid: %s %q", got.Phase, got.Message)
	}
}

// TestBuiltinBlock: Argo's provider.job block is read directly and in the form nerve's loop hands
// it to the plugin.
func TestBuiltinBlock(t *testing.T) {
	var m v1alpha1.Metric
	if err := json.Unmarshal([]byte(`{"name":"smoke","provider":{"job":`+jobConfig+`}}`), &m); err != nil {
		t.Fatal(err)
	}
	p, _, _ := newProvider()
	if got, _ := p.Run(t.Context(), testRun(), m); got.Phase != v1alpha1.AnalysisPhaseRunning {
		t.Fatalf("provider.job: %s %q", got.Phase, got.Message)
	}
}

func TestClientRetriedAfterFailure(t *testing.T) {
	calls := 0
	p := New(Options{RESTConfig: func() (*rest.Config, error) {
		calls++
		return nil, errors.New("no kubeconfig")
	}})
	if err := p.InitPlugin(t.Context()); err == nil || !strings.Contains(err.Error(), "KUBECONFIG or in-cluster") {
		t.Fatalf("InitPlugin = %v", err)
	}
	got, _ := p.Run(t.Context(), testRun(), testMetric("smoke", jobConfig))
	if got.Phase != v1alpha1.AnalysisPhaseError || calls != 2 {
		t.Fatalf("Run: %s %q, %d config loads", got.Phase, got.Message, calls)
	}
}
