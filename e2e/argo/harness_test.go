//go:build e2e

package argo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/plugins/host"
)

// promPlugin is the registered name of nerve's Prometheus metric provider.
const promPlugin = "nerve/prometheus"

// controllerKind selects which controller runs a suite's namespace.
type controllerKind string

const (
	argoController  controllerKind = "argo"
	nerveController controllerKind = "nerve"
)

// suite is one namespace run by one controller, with nerve's plugins registered.
type suite struct {
	t   *testing.T
	env *framework.Env
	ns  string
	// metrics is the URL of the controller's /metrics.
	metrics string
}

// routerPlugin is a traffic-router plugin for a suite's argo-rollouts-config.
type routerPlugin struct{ name, binary string }

// newSuite creates a namespace, registers nerve/prometheus and the given traffic routers in its
// argo-rollouts-config (file:// locations of private copies, their real sha256) and starts the
// chosen controller watching only that namespace.
func newSuite(t *testing.T, kind controllerKind, routers ...routerPlugin) *suite {
	t.Helper()
	env := framework.New(t)
	s := &suite{t: t, env: env, ns: env.Namespace}
	data := map[string]string{"metricProviderPlugins": pluginEntry(t, promPlugin, "nerve-prometheus")}
	for _, r := range routers {
		data["trafficRouterPlugins"] += pluginEntry(t, r.name, r.binary)
	}
	cm := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "argo-rollouts-config", "namespace": s.ns},
		"data":     data,
	}
	b, err := json.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	env.Apply(t, string(b))
	switch kind {
	case argoController:
		s.ensureExperimentCRD()
		s.startArgo()
	default:
		s.startNerve()
	}
	return s
}

// pluginEntry is one argo-rollouts-config list entry for a private copy of a nerve plugin binary.
func pluginEntry(t *testing.T, name, binary string) string {
	t.Helper()
	bin := framework.CopyBinary(t, framework.Binary(t, binary))
	sum, err := host.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("- name: %s\n  location: file://%s\n  sha256: %s\n", name, bin, sum)
}

// ensureExperimentCRD installs Argo's Experiment CRD (nerve has no Experiment kind; Argo's
// controller waits for an Experiment informer). It is additive: nerve's CRDs stay as they are.
func (s *suite) ensureExperimentCRD() {
	s.t.Helper()
	s.env.ApplyFile(s.t, filepath.Join(argoDir, "crds", "experiment-crd.yaml"))
	gvk := schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Experiment"}
	framework.Eventually(s.t, 30*time.Second, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		s.env.Mapper().Reset()
		ri, err := s.env.ResourceFor(gvk, s.ns)
		if err != nil {
			return false, err
		}
		_, err = ri.List(ctx, metav1.ListOptions{})
		return err == nil, err
	}, "Experiment CRD served")
}

// startArgo runs the real rollouts-controller in namespaced mode on s.ns, from a temporary
// working directory (Argo copies plugins into <cwd>/plugin-bin).
func (s *suite) startArgo() {
	s.t.Helper()
	metrics, healthz := framework.FreePort(s.t), framework.FreePort(s.t)
	cmd := fmt.Sprintf("cd %q && exec %q --kubeconfig %q --namespace %q --namespaced --leader-elect=false --metricsport %d --healthzPort %d --loglevel info",
		s.t.TempDir(), filepath.Join(argoDir, "rollouts-controller"), os.Getenv(framework.EnvKubeconfig), s.ns, metrics, healthz)
	framework.StartProcess(s.t, "/bin/sh", []string{"-c", cmd}, []string{"POD_NAMESPACE=" + s.ns})
	s.metrics = fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics)
	waitHTTP(s.t, s.metrics)
}

// startNerve runs nerve's loop on s.ns.
func (s *suite) startNerve() {
	s.t.Helper()
	metrics := fmt.Sprintf("127.0.0.1:%d", framework.FreePort(s.t))
	args := []string{
		"--kubeconfig", os.Getenv(framework.EnvKubeconfig),
		"--namespace", s.ns, "--controller-namespace", s.ns,
		"--metrics-addr", metrics,
		"--leader-elect-lease-duration=3s", "--leader-elect-renew-deadline=2s", "--leader-elect-retry-period=500ms",
		"--plugin-workdir", s.t.TempDir(),
	}
	framework.StartProcess(s.t, framework.Binary(s.t, "nerve-controller"), args, nil)
	s.metrics = "http://" + metrics + "/metrics"
	waitHTTP(s.t, "http://"+metrics+"/healthz")
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	framework.Eventually(t, 60*time.Second, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		resp, err := http.Get(url)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == 200, nil
	}, "%s", url)
}

// gateSteps: 50%, then the prom-gate step analysis.
const gateSteps = `      - setWeight: 50
      - analysis:
          templates: [{templateName: prom-gate}]
`

// rolloutYAML is a 2-replica canary (pods declare the MLLP port) with extra canary strategy
// fields and steps.
func rolloutYAML(name, canary, steps string) string {
	return podRollout(name).YAML("    canary:\n      abortScaleDownDelaySeconds: 1\n" + canary + "      steps:\n" + steps)
}

// podRollout is the 2-replica pause-container Rollout whose pods declare the MLLP port.
func podRollout(name string) framework.TestRollout {
	return framework.TestRollout{Name: name, Replicas: 2, Ports: fmt.Sprintf("[{name: mllp, containerPort: %d}]", podPort)}
}

// templateYAML is the prom-gate step-analysis template: two measurements of query on
// nerve/prometheus, 1s apart, passing below 0.005.
func templateYAML(address, query string) string {
	return fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: prom-gate
spec:
  metrics:
  - name: prom-value
    interval: 1s
    count: 2
    failureLimit: 0
    successCondition: "result[0] < 0.005"
    provider:
      plugin:
        %s:
          address: %q
          query: %q
          timeout: 5
`, promPlugin, address, query)
}

func (s *suite) rollout(ctx context.Context, name string) (*v1alpha1.Rollout, error) {
	return s.env.GetRollout(ctx, s.ns, name)
}

func (s *suite) runs(ctx context.Context) ([]v1alpha1.AnalysisRun, error) {
	ri, err := s.env.ResourceFor(v1alpha1.GroupVersionKind(v1alpha1.AnalysisRunKind), s.ns)
	if err != nil {
		return nil, err
	}
	return framework.List[v1alpha1.AnalysisRun](ctx, ri)
}

func (s *suite) waitRollout(name string, timeout time.Duration, what string, cond func(*v1alpha1.Rollout) bool) *v1alpha1.Rollout {
	s.t.Helper()
	return s.env.WaitRollout(s.t, s.ns, name, timeout, what, cond)
}

func healthyAt(hash *string) func(*v1alpha1.Rollout) bool { return framework.HealthyAt(hash) }

func (s *suite) setImage(name, image string) {
	s.t.Helper()
	ri, err := s.env.ResourceFor(v1alpha1.GroupVersionKind(v1alpha1.RolloutKind), s.ns)
	if err != nil {
		s.t.Fatal(err)
	}
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"e2e/image":%q}}}}}`, image)
	if _, err := ri.Patch(s.t.Context(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

// normalize replaces the suite's namespace (in queries and job labels) so that messages of two
// suites compare.
func (s *suite) normalize(msg string) string { return strings.ReplaceAll(msg, s.ns, "<ns>") }

// outcome is what a scenario observably produced.
type outcome struct {
	Phase     v1alpha1.RolloutPhase
	Abort     bool
	Promoted  bool
	Message   string
	RunPhase  v1alpha1.AnalysisPhase
	Values    []string
	MetricMsg string
	// Weights is the sequence of canary weights the route took (router scenarios).
	Weights []string
	// Renders are what the real `kubectl argo rollouts get rollout` / `list rollouts` printed
	// (normalised) at the scenario's checkpoints.
	Renders []string
}

func (o outcome) String() string {
	return fmt.Sprintf("phase=%s abort=%v promoted=%v message=%q run=%s values=%s metric.message=%q weights=%s",
		o.Phase, o.Abort, o.Promoted, o.Message, o.RunPhase, strings.Join(o.Values, ","), o.MetricMsg, joinWeights(o.Weights))
}

// underBoth runs scenario under the real Argo controller and under nerve's loop, in parallel
// in separate namespaces, and returns what each produced (nothing for a failed side).
func underBoth[T any](t *testing.T, scenario func(t *testing.T, kind controllerKind) T) map[controllerKind]T {
	t.Helper()
	var mu sync.Mutex
	got := map[controllerKind]T{}
	t.Run("group", func(t *testing.T) {
		for _, kind := range []controllerKind{argoController, nerveController} {
			t.Run(string(kind), func(t *testing.T) {
				t.Parallel()
				v := scenario(t, kind)
				mu.Lock()
				got[kind] = v
				mu.Unlock()
			})
		}
	})
	return got
}
