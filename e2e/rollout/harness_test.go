//go:build e2e

package rollout

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/plugins/host"
)

// Plugin names the tests register.
const (
	routerName = "e2e/record"
	metricName = "e2e/metric"
)

// suite is one test's namespace, controller and plugins.
type suite struct {
	t          *testing.T
	env        *framework.Env
	ns         string
	recordFile string
	valuesDir  string
	ctrl       *framework.Process
	metrics    string
	routers    []string
	metricsReg []string
	// badRouterSum registers the router with a wrong sha256.
	badRouterSum bool
}

// newSuite creates the namespace, registers the test plugins in argo-rollouts-config and starts
// a controller watching only this namespace (which is also its controller namespace).
func newSuite(t *testing.T, extraMetricNames ...string) *suite {
	t.Helper()
	env := framework.New(t)
	s := &suite{t: t, env: env, ns: env.Namespace, recordFile: filepath.Join(t.TempDir(), "router.jsonl"), valuesDir: t.TempDir()}
	s.setValue("default", "0")
	s.routers = []string{routerName}
	s.metricsReg = append([]string{metricName}, extraMetricNames...)
	s.writeConfig()
	s.startController()
	return s
}

func sha(t *testing.T, path string) string {
	sum, err := host.FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// registerLateRouter adds the recording router under the name e2e/late.
func (s *suite) registerLateRouter() {
	s.routers = append(s.routers, "e2e/late")
	s.writeConfig()
}

// writeConfig (re)writes argo-rollouts-config: the recording router under each of s.routers and
// the test metric plugin under each of s.metricsReg.
func (s *suite) writeConfig() {
	s.t.Helper()
	router := filepath.Join(pluginDir, "recordrouter")
	metric := filepath.Join(pluginDir, "testmetric")
	var mp strings.Builder
	for _, n := range s.metricsReg {
		fmt.Fprintf(&mp, "- name: %s\n  location: file://%s\n  sha256: %s\n  args: [\"--values\", %q]\n", n, metric, sha(s.t, metric), s.valuesDir)
	}
	var tr strings.Builder
	routerSum := sha(s.t, router)
	if s.badRouterSum {
		routerSum = strings.Repeat("ab", 32)
	}
	for _, n := range s.routers {
		fmt.Fprintf(&tr, "- name: %s\n  location: file://%s\n  sha256: %s\n  args: [\"--record\", %q]\n", n, router, routerSum, s.recordFile)
	}
	cm := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "argo-rollouts-config", "namespace": s.ns},
		"data": map[string]string{
			"trafficRouterPlugins":  tr.String(),
			"metricProviderPlugins": mp.String(),
		},
	}
	b, _ := json.Marshal(cm)
	s.env.Apply(s.t, string(b))
}

func (s *suite) startController() {
	s.t.Helper()
	port := framework.FreePort(s.t)
	s.metrics = fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{
		"--kubeconfig", os.Getenv(framework.EnvKubeconfig),
		"--namespace", s.ns, "--controller-namespace", s.ns,
		"--metrics-addr", s.metrics,
		"--leader-elect-lease-duration=3s", "--leader-elect-renew-deadline=2s", "--leader-elect-retry-period=500ms",
		"--plugin-workdir", s.t.TempDir(), "-v=2",
	}
	s.ctrl = framework.StartProcess(s.t, framework.Binary(s.t, "nerve-controller"), args, nil)
	framework.Eventually(s.t, 20*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		resp, err := http.Get("http://" + s.metrics + "/healthz")
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == 200, nil
	}, "controller /healthz")
}

// killController SIGKILLs the controller (and its plugin children) and starts a new one.
func (s *suite) restartController() {
	s.t.Helper()
	if err := s.ctrl.Kill(); err != nil {
		s.t.Logf("kill controller: %v", err)
	}
	s.startController()
}

func (s *suite) setValue(metric, v string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.valuesDir, metric), []byte(v), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// apply applies a manifest in the suite namespace.
func (s *suite) apply(manifest string) { s.env.Apply(s.t, manifest) }

// rollout reads a Rollout as nerve's typed struct.
func (s *suite) rollout(ctx context.Context, name string) (*v1alpha1.Rollout, error) {
	return s.env.GetRollout(ctx, s.ns, name)
}

// runs lists the AnalysisRuns in the namespace.
func (s *suite) runs(ctx context.Context) ([]v1alpha1.AnalysisRun, error) {
	ri, err := s.env.ResourceFor(v1alpha1.GroupVersionKind(v1alpha1.AnalysisRunKind), s.ns)
	if err != nil {
		return nil, err
	}
	return framework.List[v1alpha1.AnalysisRun](ctx, ri)
}

// patchStatus applies a merge patch to the status subresource, as `kubectl argo rollouts` does.
func (s *suite) patchStatus(name, patch string) {
	s.t.Helper()
	ri, err := s.env.ResourceFor(v1alpha1.GroupVersionKind(v1alpha1.RolloutKind), s.ns)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := ri.Patch(s.t.Context(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
		s.t.Fatalf("patch status %s: %v", patch, err)
	}
}

// promote does what `kubectl argo rollouts promote` does (pkg/kubectl-argo-rollouts/cmd/promote).
func (s *suite) promote(name string) {
	s.t.Helper()
	ro, err := s.rollout(s.t.Context(), name)
	if err != nil {
		s.t.Fatal(err)
	}
	steps := 0
	if c := ro.Spec.Strategy.Canary; c != nil {
		steps = len(c.Steps)
	}
	idx := int32(0)
	if ro.Status.CurrentStepIndex != nil {
		idx = *ro.Status.CurrentStepIndex
	}
	next := idx
	if int(idx) < steps {
		next++
	}
	inconclusive := ro.Status.Canary.CurrentStepAnalysisRunStatus != nil && ro.Status.Canary.CurrentStepAnalysisRunStatus.Status == v1alpha1.AnalysisPhaseInconclusive
	switch {
	case inconclusive && len(ro.Status.PauseConditions) > 0 && ro.Status.ControllerPause:
		s.patchStatus(name, fmt.Sprintf(`{"status":{"pauseConditions":null,"controllerPause":false,"currentStepIndex":%d}}`, next))
	case len(ro.Status.PauseConditions) > 0:
		s.patchStatus(name, `{"status":{"pauseConditions":null}}`)
	case ro.Spec.Strategy.Canary == nil:
		// blueGreen without a pause: Argo's CLI sends no status patch
	default:
		s.patchStatus(name, fmt.Sprintf(`{"status":{"pauseConditions":null,"currentStepIndex":%d}}`, next))
	}
}

// waitRollout waits until cond holds for the Rollout.
func (s *suite) waitRollout(name string, timeout time.Duration, what string, cond func(*v1alpha1.Rollout) bool) *v1alpha1.Rollout {
	s.t.Helper()
	return s.env.WaitRollout(s.t, s.ns, name, timeout, what, cond)
}

func stepIs(i int32) func(*v1alpha1.Rollout) bool {
	return func(ro *v1alpha1.Rollout) bool {
		return ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex == i
	}
}

func healthyAt(hash *string) func(*v1alpha1.Rollout) bool { return framework.HealthyAt(hash) }

func phaseIs(p v1alpha1.RolloutPhase) func(*v1alpha1.Rollout) bool {
	return func(ro *v1alpha1.Rollout) bool { return ro.Status.Phase == p }
}

func condition(ro *v1alpha1.Rollout, t v1alpha1.RolloutConditionType) *v1alpha1.RolloutCondition {
	for i := range ro.Status.Conditions {
		if ro.Status.Conditions[i].Type == t {
			return &ro.Status.Conditions[i]
		}
	}
	return nil
}

// call is one line of the recording router's file.
type call struct {
	Time       time.Time `json:"time"`
	Pid        int       `json:"pid"`
	Method     string    `json:"method"`
	Rollout    string    `json:"rollout"`
	Weight     int32     `json:"weight"`
	CanaryHash string    `json:"canaryHash"`
	StableHash string    `json:"stableHash"`
	Route      string    `json:"route"`
}

func (s *suite) calls() []call {
	s.t.Helper()
	f, err := os.Open(s.recordFile)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	var out []call
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c call
		if json.Unmarshal(sc.Bytes(), &c) == nil {
			out = append(out, c)
		}
	}
	return out
}

// setWeights returns the SetWeight values sent while canaryHash was the canary, in order.
func setWeights(calls []call, canaryHash string) []int32 {
	var out []int32
	cur := ""
	for _, c := range calls {
		if c.Method == "UpdateHash" {
			cur = c.CanaryHash
		}
		if c.Method == "SetWeight" && cur == canaryHash {
			out = append(out, c.Weight)
		}
	}
	return out
}

// ensureService creates a Service (stable/canary) selecting app=<app>.
func (s *suite) services(app string, names ...string) {
	for _, n := range names {
		svc := &corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: s.ns},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": app},
				Ports: []corev1.ServicePort{{Name: "mllp", Port: 2575}}},
		}
		_, err := s.env.Client.CoreV1().Services(s.ns).Create(s.t.Context(), svc, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			s.t.Fatal(err)
		}
	}
}

// setImage changes the pod template (a new revision).
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

func toYAML(t *testing.T, v any) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// scrape returns the controller's /metrics text.
func (s *suite) scrape() string {
	s.t.Helper()
	resp, err := http.Get("http://" + s.metrics + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}
