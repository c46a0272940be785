//go:build e2e

package providers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/metricprovider/job"
	"github.com/nerve-rollouts/nerve/metricprovider/web"
	"github.com/nerve-rollouts/nerve/plugins/host"
)

// gateSuite is a namespace with nerve's loop (the real nerve-controller) running, its
// argo-rollouts-config registering the real nerve-web and nerve-job binaries under the names the
// loop maps the built-in provider.web and provider.job blocks to.
type gateSuite struct {
	t   *testing.T
	env *framework.Env
	ep  *endpoint
}

func newGateSuite(t *testing.T) *gateSuite {
	t.Helper()
	env := framework.New(t)
	var entries strings.Builder
	for binary, name := range map[string]string{"nerve-web": web.DefaultName, "nerve-job": job.DefaultName} {
		bin := framework.CopyBinary(t, framework.Binary(t, binary))
		sum, err := host.FileSHA256(bin)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&entries, "- name: %s\n  location: file://%s\n  sha256: %s\n", name, bin, sum)
	}
	cm, err := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "argo-rollouts-config", "namespace": env.Namespace},
		"data":     map[string]string{"metricProviderPlugins": entries.String()},
	})
	if err != nil {
		t.Fatal(err)
	}
	env.Apply(t, string(cm))
	framework.StartController(t, env.Namespace)
	return &gateSuite{t: t, env: env, ep: startEndpoint(t, 200, `{"checks":{"fhir":"pass","errorRate":0.001}}`)}
}

// templates applies the two AnalysisTemplates with Argo's built-in blocks, unchanged; pinned keeps
// the Job's pod off every node (the stand-in kubelet decides the Job's outcome).
func (s *gateSuite) templates(pinned bool) {
	nodeSelector := ""
	if pinned {
		nodeSelector = fmt.Sprintf("              nodeSelector: {%s: only}\n", standInNode)
	}
	s.env.Apply(s.t, fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: web-gate
spec:
  args:
  - name: check
  metrics:
  - name: fhir-health
    successCondition: result == "pass"
    provider:
      web:
        url: "%s/health?service={{args.check}}"
        jsonPath: "{$.checks.{{args.check}}}"
        timeoutSeconds: 5
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: job-gate
spec:
  metrics:
  - name: smoke
    provider:
      job:
        metadata:
          labels: {team: fhir}
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
%s              containers:
              - name: smoke
                image: registry.k8s.io/pause:3.10
`, s.ep.URL, nodeSelector))
}

// rollout applies a replica-based canary: 50 %, then one step analysis with both templates.
func (s *gateSuite) rollout(name string) {
	s.env.Apply(s.t, framework.TestRollout{Name: name, Replicas: 2, RevisionHistoryLimit: 2}.YAML(`    canary:
      steps:
      - setWeight: 50
      - analysis:
          templates: [{templateName: web-gate}, {templateName: job-gate}]
          args: [{name: check, value: fhir}]
`))
}

func (s *gateSuite) setImage(name, image string) {
	s.t.Helper()
	ri, err := s.env.ResourceFor(v1alpha1.GroupVersionKind(v1alpha1.RolloutKind), s.env.Namespace)
	if err != nil {
		s.t.Fatal(err)
	}
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"e2e/image":%q}}}}}`, image)
	if _, err := ri.Patch(s.t.Context(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *gateSuite) onlyRun() v1alpha1.AnalysisRun {
	s.t.Helper()
	ri, err := s.env.ResourceFor(v1alpha1.GroupVersionKind("AnalysisRun"), s.env.Namespace)
	if err != nil {
		s.t.Fatal(err)
	}
	runs, err := framework.List[v1alpha1.AnalysisRun](s.t.Context(), ri)
	if err != nil {
		s.t.Fatal(err)
	}
	if len(runs) != 1 {
		s.t.Fatalf("%d AnalysisRuns, want 1", len(runs))
	}
	run := runs[0]
	s.t.Logf("AnalysisRun %s: phase=%s message=%q", run.Name, run.Status.Phase, run.Status.Message)
	for _, r := range run.Status.MetricResults {
		for _, m := range r.Measurements {
			s.t.Logf("  %s: measurement phase=%s value=%q message=%q metadata=%v", r.Name, m.Phase, m.Value, m.Message, m.Metadata)
		}
	}
	return run
}

func metricPhase(run v1alpha1.AnalysisRun, name string) v1alpha1.AnalysisPhase {
	for _, r := range run.Status.MetricResults {
		if r.Name == name {
			return r.Phase
		}
	}
	return ""
}

// TestBuiltinWebAndJobGateCanary: a canary whose step analysis uses Argo's built-in provider.web
// and provider.job blocks is promoted by nerve's loop once the web check passes and the Job
// completes (kwok completes its pod, the real Job controller marks it Complete); the Job ran in the Rollout's namespace, owned by
// the AnalysisRun.
func TestBuiltinWebAndJobGateCanary(t *testing.T) {
	t.Parallel()
	s := newGateSuite(t)
	s.templates(false)
	s.rollout("gated")
	var v1 string
	s.env.WaitRollout(t, s.env.Namespace, "gated", 60*time.Second, "initial deploy healthy", framework.HealthyAt(&v1))
	s.setImage("gated", "v2")
	ro := s.env.WaitRollout(t, s.env.Namespace, "gated", 120*time.Second, "v2 promoted after the analysis", func(ro *v1alpha1.Rollout) bool {
		return framework.HealthyAt(nil)(ro) && ro.Status.StableRS != v1
	})
	if ro.Status.Abort {
		t.Fatalf("aborted: %s", ro.Status.Message)
	}
	run := s.onlyRun()
	if run.Status.Phase != v1alpha1.AnalysisPhaseSuccessful || metricPhase(run, "fhir-health") != v1alpha1.AnalysisPhaseSuccessful || metricPhase(run, "smoke") != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("run %s (web %s, job %s), want all Successful", run.Status.Phase, metricPhase(run, "fhir-health"), metricPhase(run, "smoke"))
	}
	s.ep.mu.Lock()
	query := s.ep.last.URL.RawQuery
	s.ep.mu.Unlock()
	if query != "service=fhir" {
		t.Fatalf("the web check was sent with query %q, want {{args.check}} substituted", query)
	}
	j, err := s.env.Client.BatchV1().Jobs(s.env.Namespace).Get(t.Context(), string(run.UID)+".smoke.1", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the measurement's Job: %v", err)
	}
	if ref := metav1.GetControllerOf(j); ref == nil || ref.UID != run.UID || j.Labels["team"] != "fhir" {
		t.Fatalf("job owner %+v labels %v", ref, j.Labels)
	}
}

// TestBuiltinJobFailureAbortsCanary: the web check passes but the Job fails (the stand-in kubelet
// fails it): the step analysis fails and nerve's loop aborts the canary back to stable.
func TestBuiltinJobFailureAbortsCanary(t *testing.T) {
	t.Parallel()
	s := newGateSuite(t)
	finishJobs(t, s.env.Client, s.env.Namespace, time.Second, map[string]bool{"smoke": false})
	s.templates(true)
	s.rollout("failing")
	var v1 string
	s.env.WaitRollout(t, s.env.Namespace, "failing", 60*time.Second, "initial deploy healthy", framework.HealthyAt(&v1))
	s.setImage("failing", "v2")
	ro := s.env.WaitRollout(t, s.env.Namespace, "failing", 120*time.Second, "aborted by the failed analysis", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort
	})
	if ro.Status.StableRS != v1 {
		t.Fatalf("stable moved to %s after the abort (was %s)", ro.Status.StableRS, v1)
	}
	t.Logf("rollout message: %q", ro.Status.Message)
	framework.Eventually(t, 30*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		run := s.onlyRun()
		return run.Status.Phase == v1alpha1.AnalysisPhaseFailed, nil
	}, "the AnalysisRun Failed")
	run := s.onlyRun()
	if metricPhase(run, "smoke") != v1alpha1.AnalysisPhaseFailed || metricPhase(run, "fhir-health") != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("web %s, job %s; want Successful, Failed", metricPhase(run, "fhir-health"), metricPhase(run, "smoke"))
	}
	if !strings.Contains(ro.Status.Message, `Metric "smoke" assessed Failed`) || !strings.Contains(ro.Status.Message, "BackoffLimitExceeded") {
		t.Fatalf("abort message %q does not name the failed Job metric and its reason", ro.Status.Message)
	}
}
