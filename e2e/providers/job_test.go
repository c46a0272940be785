//go:build e2e

package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/metricprovider/job"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance"
)

// resumeUntilDone resumes a Running measurement over the wire until it finishes.
func resumeUntilDone(t *testing.T, p plugins.MetricProvider, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, meas v1alpha1.Measurement) v1alpha1.Measurement {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for meas.Phase == v1alpha1.AnalysisPhaseRunning {
		if time.Now().After(deadline) {
			t.Fatalf("measurement still Running after 60s: %+v", meas)
		}
		time.Sleep(500 * time.Millisecond)
		next, err := p.Resume(t.Context(), run, m, meas)
		if err != nil {
			t.Fatalf("Resume over the wire: %v", err)
		}
		meas = next
	}
	return meas
}

// TestJobProvider drives the real nerve-job binary against the local control plane: Run creates a
// real Job owned by a real AnalysisRun (with Argo's name, labels and annotations), the stand-in
// kubelet completes or fails it, Resume maps Complete → Successful and Failed → Failed,
// Terminate deletes, GarbageCollect keeps the newest, and deleting the AnalysisRun lets the
// garbage collector of kube-controller-manager delete the rest.
func TestJobProvider(t *testing.T) {
	env := framework.New(t)
	ctx := t.Context()
	p := startProvider(t, "nerve-job", job.DefaultName)
	run := createRun(t, env, "job-provider")
	m := pluginMetric(t, "smoke", job.DefaultName, jobSpec(map[string]string{"team": "fhir"}, true), "", "")
	jobs := env.Client.BatchV1().Jobs(env.Namespace)

	// 1: Complete → Successful.
	meas, err := p.Run(ctx, run, m)
	if err != nil || meas.Phase != v1alpha1.AnalysisPhaseRunning {
		t.Fatalf("Run = %s %q, %v", meas.Phase, meas.Message, err)
	}
	name := string(run.UID) + ".smoke.1"
	if meas.Metadata[job.JobNameKey] != name || meas.Metadata[job.JobNamespaceKey] != env.Namespace {
		t.Fatalf("metadata %v, want job %s", meas.Metadata, name)
	}
	j, err := jobs.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Job was not created: %v", err)
	}
	ref := metav1.GetControllerOf(j)
	if ref == nil || ref.UID != run.UID || ref.Kind != "AnalysisRun" || j.Labels[job.AnalysisRunUIDLabelKey] != string(run.UID) ||
		j.Labels["team"] != "fhir" || j.Annotations[job.AnalysisRunMetricAnnotationKey] != "smoke" || j.Annotations[job.AnalysisRunNameAnnotationKey] != run.Name {
		t.Fatalf("job owner %+v labels %v annotations %v", ref, j.Labels, j.Annotations)
	}
	if still, _ := p.Resume(ctx, run, m, meas); still.Phase != v1alpha1.AnalysisPhaseRunning || still.ResumeAt == nil {
		t.Fatalf("Resume of an unfinished Job = %s %q", still.Phase, still.Message)
	}
	if err := standIn(ctx, env.Client, env.Namespace, name, true); err != nil {
		t.Fatalf("stand-in kubelet: %v", err)
	}
	done := resumeUntilDone(t, p, run, m, meas)
	if done.Phase != v1alpha1.AnalysisPhaseSuccessful || done.FinishedAt == nil || !strings.Contains(done.Message, "completed (succeeded: 1)") {
		t.Fatalf("completed Job: %s %q", done.Phase, done.Message)
	}

	// 2: Failed → Failed (the run's status now counts one measurement: the name's index is 2).
	run.Status.MetricResults = []v1alpha1.MetricResult{{Name: "smoke", Count: 1, Successful: 1}}
	meas, _ = p.Run(ctx, run, m)
	if meas.Metadata[job.JobNameKey] != string(run.UID)+".smoke.2" {
		t.Fatalf("second job %v", meas.Metadata)
	}
	if err := standIn(ctx, env.Client, env.Namespace, meas.Metadata[job.JobNameKey], false); err != nil {
		t.Fatalf("stand-in kubelet: %v", err)
	}
	if done := resumeUntilDone(t, p, run, m, meas); done.Phase != v1alpha1.AnalysisPhaseFailed || !strings.Contains(done.Message, "BackoffLimitExceeded") {
		t.Fatalf("failed Job: %s %q", done.Phase, done.Message)
	}

	// 3: Terminate deletes a running Job.
	run.Status.MetricResults[0].Count = 2
	meas, _ = p.Run(ctx, run, m)
	term, err := p.Terminate(ctx, run, m, meas)
	if err != nil || term.Phase != v1alpha1.AnalysisPhaseInconclusive {
		t.Fatalf("Terminate = %s %q, %v", term.Phase, term.Message, err)
	}
	waitGone(t, env, meas.Metadata[job.JobNameKey])

	// 4: GarbageCollect with limit 1 keeps the newest of the two left.
	if err := p.GarbageCollect(ctx, run, m, 1); err != nil {
		t.Fatalf("GarbageCollect: %v", err)
	}
	waitGone(t, env, name)
	if _, err := jobs.Get(ctx, string(run.UID)+".smoke.2", metav1.GetOptions{}); err != nil {
		t.Fatalf("the newest Job was collected: %v", err)
	}

	// 5: deleting the AnalysisRun deletes its Jobs (owner reference, kube-controller-manager's GC).
	ri, err := env.ResourceFor(v1alpha1.GroupVersionKind("AnalysisRun"), env.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	if err := ri.Delete(ctx, run.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, env, string(run.UID)+".smoke.2")
}

// TestJobCompletedByKwok: a Job whose pod kwok completes is marked Complete by the real Job
// controller, with no stand-in; the measurement is Successful.
func TestJobCompletedByKwok(t *testing.T) {
	env := framework.New(t)
	p := startProvider(t, "nerve-job", job.DefaultName)
	run := createRun(t, env, "job-kwok")
	m := pluginMetric(t, "smoke", job.DefaultName, jobSpec(nil, false), "", "")
	meas, err := p.Run(t.Context(), run, m)
	if err != nil || meas.Phase != v1alpha1.AnalysisPhaseRunning {
		t.Fatalf("Run = %s %q, %v", meas.Phase, meas.Message, err)
	}
	if done := resumeUntilDone(t, p, run, m, meas); done.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("Job completed by the Job controller: %s %q", done.Phase, done.Message)
	}
}

// waitGone waits until the Job is deleted (foreground deletion takes a moment: its pods first).
func waitGone(t *testing.T, env *framework.Env, name string) {
	t.Helper()
	framework.Eventually(t, 60*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		_, err := env.Client.BatchV1().Jobs(env.Namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}, "job %s deleted", name)
}

// TestJobConformance runs the suite in wire and functional mode on the real nerve-job binary
// against the local control plane, the AnalysisRun being a real object in the test's namespace
// and the stand-in kubelet completing the suite's Jobs.
func TestJobConformance(t *testing.T) {
	env := framework.New(t)
	bin := framework.Binary(t, "nerve-job")
	cfg, err := json.Marshal(jobSpec(nil, true))
	if err != nil {
		t.Fatal(err)
	}
	finishJobs(t, env.Client, env.Namespace, time.Second, map[string]bool{conformance.Metric(conformance.Options{}).Name: true})
	for _, functional := range []bool{false, true} {
		t.Run(fmt.Sprintf("functional=%t", functional), func(t *testing.T) {
			// One AnalysisRun per mode: the wire-mode pass deletes its Jobs (Terminate).
			opts := conformance.Options{Kind: plugins.KindMetricProvider, Name: job.DefaultName, Namespace: env.Namespace,
				Rollout: fmt.Sprintf("jobs-%t", functional), Config: cfg, Functional: functional}
			opts.RunUID = createRun(t, env, conformance.AnalysisRunName(opts)).UID
			rep, err := conformance.Run(t.Context(), bin, opts)
			if err != nil {
				t.Fatalf("conformance.Run: %v", err)
			}
			var out bytes.Buffer
			_ = rep.Write(&out)
			t.Logf("conformance (functional=%t):\n%s", functional, out.String())
			if !rep.Passed() {
				t.Fatalf("conformance failed:\n%s", out.String())
			}
		})
	}
}
