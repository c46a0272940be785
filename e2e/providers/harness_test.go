//go:build e2e

package providers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/metricprovider/job"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/host"
)

// startProvider starts the real plugin binary of bin/plugins through plugins/host (sha256
// verified, real go-plugin handshake, net/rpc+gob) under name and runs InitPlugin. The plugin
// process inherits the test's environment, KUBECONFIG included.
func startProvider(t *testing.T, binary, name string, args ...string) plugins.MetricProvider {
	t.Helper()
	bin := framework.CopyBinary(t, framework.Binary(t, binary))
	sum, err := host.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	h := host.New(host.Options{CallTimeout: 60 * time.Second, WorkDir: t.TempDir(), Logger: framework.FileLogger(t, binary+".log")})
	t.Cleanup(h.Close)
	h.SetRegistry(host.Registry{MetricProviders: []host.Entry{{Name: name, Kind: plugins.KindMetricProvider,
		Location: "file://" + bin, SHA256: sum, Args: args}}})
	p, err := h.MetricProvider(t.Context(), name)
	if err != nil {
		t.Fatalf("start %s: %v", binary, err)
	}
	if err := p.InitPlugin(t.Context()); err != nil {
		t.Fatalf("%s InitPlugin: %v", binary, err)
	}
	return p
}

// endpoint is a real HTTP endpoint on 127.0.0.1 whose answer (status, body, delay) the test sets.
type endpoint struct {
	*httptest.Server
	mu       sync.Mutex
	code     int
	body     string
	delay    time.Duration
	requests int
	last     *http.Request
}

func startEndpoint(t *testing.T, code int, body string) *endpoint {
	t.Helper()
	e := &endpoint{code: code, body: body}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		e.mu.Lock()
		e.requests++
		e.last = r.Clone(context.Background())
		code, body, delay := e.code, e.body, e.delay
		e.mu.Unlock()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) set(code int, body string, delay time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.code, e.body, e.delay = code, body, delay
}

func (e *endpoint) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests
}

// pluginMetric is a metric whose config sits under provider.plugin[name].
func pluginMetric(t *testing.T, metric, name string, cfg any, success, failure string) v1alpha1.Metric {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v1alpha1.Metric{Name: metric, SuccessCondition: success, FailureCondition: failure,
		Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{name: raw}}}
}

// standInNode is a node label no kwok node carries: a pod that requires it is never scheduled, so
// its Job's outcome is the stand-in kubelet's to write.
const standInNode = "e2e.nerve.io/stand-in-kubelet"

// jobSpec is a provider.job config with one container; pinned keeps its pod off every node (the
// stand-in kubelet decides the outcome), else kwok completes it and the Job controller marks the
// Job Complete.
func jobSpec(labels map[string]string, pinned bool) map[string]any {
	pod := map[string]any{
		"restartPolicy": "Never",
		"containers":    []any{map[string]any{"name": "smoke", "image": "registry.k8s.io/pause:3.10"}},
	}
	if pinned {
		pod["nodeSelector"] = map[string]string{standInNode: "only"}
	}
	return map[string]any{
		"metadata": map[string]any{"labels": labels},
		"spec":     map[string]any{"backoffLimit": 0, "template": map[string]any{"spec": pod}},
	}
}

// standIn is the stand-in kubelet for a Job on kwok: it writes the outcome the Job controller
// would write when the Job's pod exits, through the status subresource. The real Job controller
// also writes this status (active, ready pods), so conflicts are retried.
func standIn(ctx context.Context, c kubernetes.Interface, ns, name string, succeed bool) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		j, err := c.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.Now()
		start := now
		if j.Status.StartTime != nil {
			start = *j.Status.StartTime
		}
		j.Status.StartTime = &start
		j.Status.Active, j.Status.Ready, j.Status.Terminating = 0, ptr(int32(0)), nil
		j.Status.UncountedTerminatedPods = nil
		cond := func(t batchv1.JobConditionType, reason, msg string) batchv1.JobCondition {
			return batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg, LastProbeTime: now, LastTransitionTime: now}
		}
		if succeed {
			j.Status.Succeeded = 1
			j.Status.CompletionTime = &now
			j.Status.Conditions = append(j.Status.Conditions,
				cond(batchv1.JobSuccessCriteriaMet, "CompletionsReached", "Reached expected number of succeeded pods"),
				cond(batchv1.JobComplete, "CompletionsReached", "Reached expected number of succeeded pods"))
		} else {
			j.Status.Failed = 1
			j.Status.Conditions = append(j.Status.Conditions,
				cond(batchv1.JobFailureTarget, "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
				cond(batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit"))
		}
		_, err = c.BatchV1().Jobs(ns).UpdateStatus(ctx, j, metav1.UpdateOptions{})
		return err
	})
}

// finishJobs is the stand-in kubelet for every Job of the namespace: each new Job whose
// metric-name annotation is in outcomes is finished (true = Complete, false = Failed) after
// delay. It stops with the test.
func finishJobs(t *testing.T, c kubernetes.Interface, ns string, delay time.Duration, outcomes map[string]bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		finished := map[string]bool{}
		for ctx.Err() == nil {
			list, err := c.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: job.AnalysisRunUIDLabelKey})
			if err == nil {
				for _, j := range list.Items {
					ok, known := outcomes[j.Annotations[job.AnalysisRunMetricAnnotationKey]]
					if !known || finished[j.Name] || time.Since(j.CreationTimestamp.Time) < delay {
						continue
					}
					if err := standIn(ctx, c, ns, j.Name, ok); err != nil {
						t.Logf("stand-in kubelet: job %s: %v", j.Name, err)
						continue
					}
					finished[j.Name] = true
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
}

// createRun creates a real AnalysisRun object (no controller runs it) so Jobs can be owned by it.
func createRun(t *testing.T, env *framework.Env, name string) *v1alpha1.AnalysisRun {
	t.Helper()
	objs := env.Apply(t, fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: %s
spec:
  metrics:
  - name: smoke
    provider:
      job:
        spec:
          template:
            spec:
              restartPolicy: Never
              containers: [{name: smoke, image: registry.k8s.io/pause:3.10}]
`, name))
	run := &v1alpha1.AnalysisRun{}
	run.APIVersion, run.Kind = "argoproj.io/v1alpha1", "AnalysisRun"
	run.Name, run.Namespace, run.UID = objs[0].GetName(), objs[0].GetNamespace(), objs[0].GetUID()
	return run
}

func ptr[T any](v T) *T { return &v }
