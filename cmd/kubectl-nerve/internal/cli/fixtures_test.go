package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	mllpapi "github.com/nerve-rollouts/nerve/router/mllp/api"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const testNS = "clinical-ingestion"

func testNow() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }

func ago(d time.Duration) metav1.Time { return metav1.NewTime(testNow().Add(-d)) }

func ptr[T any](v T) *T { return &v }

// testEnv is a Factory over fake clientsets plus captured streams.
type testEnv struct {
	f    *Factory
	dyn  *dynamicfake.FakeDynamicClient
	kube *kubefake.Clientset
	tty  bool
	env  map[string]string
}

func listKinds() map[schema.GroupVersionResource]string {
	return map[schema.GroupVersionResource]string{
		v1alpha1.GroupVersionResource(v1alpha1.RolloutResource):      "RolloutList",
		v1alpha1.GroupVersionResource(v1alpha1.AnalysisRunResource):  "AnalysisRunList",
		mllpapi.GroupVersionResource():                               mllpapi.ListKind,
		{Group: gatewayGroup, Version: "v1", Resource: "httproutes"}: "HTTPRouteList",
	}
}

func toU(t *testing.T, obj any, apiVersion, kind string) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	return u
}

func newTestEnv(t *testing.T, dynObjs []runtime.Object, kubeObjs ...runtime.Object) *testEnv {
	t.Helper()
	te := &testEnv{env: map[string]string{"PATH": t.TempDir()}}
	te.dyn = dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds(), dynObjs...)
	te.kube = kubefake.NewClientset(kubeObjs...)
	ns := testNS
	flags := genericclioptions.NewConfigFlags(false)
	flags.Namespace = &ns
	empty := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(empty, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flags.KubeConfig = &empty
	te.f = &Factory{
		Getter:     flags,
		Now:        testNow,
		Dynamic:    func() (dynamic.Interface, error) { return te.dyn, nil },
		Kube:       func() (kubernetes.Interface, error) { return te.kube, nil },
		Getenv:     func(k string) string { return te.env[k] },
		LookPath:   func(string) (string, error) { return "", os.ErrNotExist },
		IsTerminal: func(io.Writer) bool { return te.tty },
		RunCommand: func(string, ...string) ([]byte, error) {
			return []byte(`{"clientVersion":{"major":"1","minor":"32","gitVersion":"v1.32.4"}}`), nil
		},
	}
	return te
}

// run executes kubectl nerve args and returns stdout, stderr and the exit code.
func (te *testEnv) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var in, out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: &in, Out: &out, ErrOut: &errOut}
	flags, _ := te.f.Getter.(*genericclioptions.ConfigFlags)
	root := NewRootCmd(streams, flags, te.f)
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	code := Code(err, &errOut)
	return out.String(), errOut.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, d)
	}
}

const (
	roUID     = types.UID("ro-uid-1")
	stableH   = "7d84d44bb8"
	canaryH   = "db976bc44"
	roName    = "mllp-listener"
	imgStable = "registry.local/mllp-listener:1.4.1"
	imgCanary = "registry.local/mllp-listener:1.4.2"
)

// pausedCanary is the seed's rollout paused at step 1 (pause 5m) after setWeight 5, with an
// MLLP router and a step AnalysisRun of revision 2.
func pausedCanary() *v1alpha1.Rollout {
	steps := []v1alpha1.CanaryStep{
		{SetWeight: ptr(int32(5))},
		{Pause: &v1alpha1.RolloutPause{Duration: ptr(intstr.FromString("5m"))}},
		{Analysis: &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "mllp-health-check"}}}},
		{SetWeight: ptr(int32(25))},
		{Pause: &v1alpha1.RolloutPause{}},
		{SetWeight: ptr(int32(100))},
	}
	return &v1alpha1.Rollout{
		TypeMeta: metav1.TypeMeta{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout"},
		ObjectMeta: metav1.ObjectMeta{Name: roName, Namespace: testNS, UID: roUID, Generation: 2,
			CreationTimestamp: ago(72 * time.Hour)},
		Spec: v1alpha1.RolloutSpec{
			Replicas: ptr(int32(4)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": roName}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": roName}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "listener", Image: imgCanary}}},
			},
			Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
				CanaryService: roName + "-canary", StableService: roName + "-stable", Steps: steps,
				TrafficRouting: &v1alpha1.RolloutTrafficRouting{Plugins: map[string]json.RawMessage{
					"nerve/mllp":       json.RawMessage(`{"route":"mllp-listener"}`),
					"nerve/gatewayAPI": json.RawMessage(`{"httpRoute":"mllp-admin"}`),
				}},
			}},
		},
		Status: v1alpha1.RolloutStatus{
			PauseConditions:    []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonCanaryPauseStep, StartTime: ago(2 * time.Minute)}},
			ControllerPause:    true,
			CurrentPodHash:     canaryH,
			StableRS:           stableH,
			CurrentStepIndex:   ptr(int32(1)),
			Replicas:           5,
			UpdatedReplicas:    1,
			ReadyReplicas:      5,
			AvailableReplicas:  5,
			ObservedGeneration: "2",
			Phase:              v1alpha1.RolloutPhasePaused,
			Message:            "CanaryPauseStep",
			Canary: v1alpha1.CanaryStatus{Weights: &v1alpha1.TrafficWeights{
				Canary: v1alpha1.WeightDestination{Weight: 5, ServiceName: roName + "-canary", PodTemplateHash: canaryH},
				Stable: v1alpha1.WeightDestination{Weight: 95, ServiceName: roName + "-stable", PodTemplateHash: stableH},
			}},
		},
	}
}

func replicaSet(hash, image string, rev, replicas int32, age time.Duration) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: roName + "-" + hash, Namespace: testNS, UID: types.UID("rs-" + hash), CreationTimestamp: ago(age),
			Labels:          map[string]string{"app": roName, v1alpha1.DefaultRolloutUniqueLabelKey: hash},
			Annotations:     map[string]string{v1alpha1.RevisionAnnotation: itoa(rev)},
			OwnerReferences: []metav1.OwnerReference{{UID: roUID, Kind: "Rollout", Name: roName}},
		},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr(replicas), Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": roName, v1alpha1.DefaultRolloutUniqueLabelKey: hash}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "listener", Image: image}}},
		}},
		Status: appsv1.ReplicaSetStatus{Replicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas},
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func pod(hash string, i int, age time.Duration) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: roName + "-" + hash + "-" + []string{"a1b2c", "d3e4f", "g5h6i", "j7k8l"}[i], Namespace: testNS, CreationTimestamp: ago(age),
			Labels:          map[string]string{"app": roName, v1alpha1.DefaultRolloutUniqueLabelKey: hash},
			OwnerReferences: []metav1.OwnerReference{{UID: types.UID("rs-" + hash), Kind: "ReplicaSet"}},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "listener"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "listener", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		}}},
	}
}

func analysisRun() *v1alpha1.AnalysisRun {
	svc := "mllp-listener"
	fin := ago(30 * time.Second)
	return &v1alpha1.AnalysisRun{
		ObjectMeta: metav1.ObjectMeta{
			Name: roName + "-" + canaryH + "-2-2", Namespace: testNS, CreationTimestamp: ago(90 * time.Second),
			Labels:          map[string]string{v1alpha1.DefaultRolloutUniqueLabelKey: canaryH, v1alpha1.RolloutTypeLabel: v1alpha1.RolloutTypeStepLabel},
			Annotations:     map[string]string{v1alpha1.RevisionAnnotation: "2"},
			OwnerReferences: []metav1.OwnerReference{{UID: roUID, Kind: "Rollout", Name: roName}},
		},
		Spec: v1alpha1.AnalysisRunSpec{
			Args: []v1alpha1.Argument{{Name: "service-name", Value: &svc}},
			Metrics: []v1alpha1.Metric{
				{Name: "ack-latency", Interval: "1m", Count: ptr(intstr.FromInt32(5)), SuccessCondition: "result[0] < 0.005",
					FailureLimit: ptr(intstr.FromInt32(1)),
					Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{
						Query: `histogram_quantile(0.99, sum(rate(mllp_ack_latency_seconds_bucket{service="{{args.service-name}}"}[5m])) by (le))`}}},
				{Name: "error-rate", SuccessCondition: "result[0] < 0.01",
					Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{
						Query: `sum(rate(mllp_errors_total{service="{{args.service-name}}"}[5m]))`}}},
			},
		},
		Status: v1alpha1.AnalysisRunStatus{
			Phase: v1alpha1.AnalysisPhaseRunning, StartedAt: ptr(ago(90 * time.Second)),
			MetricResults: []v1alpha1.MetricResult{
				{Name: "ack-latency", Phase: v1alpha1.AnalysisPhaseRunning, Count: 2, Successful: 2,
					Metadata: map[string]string{"ResolvedPrometheusQuery": `histogram_quantile(0.99, sum(rate(mllp_ack_latency_seconds_bucket{service="mllp-listener"}[5m])) by (le))`},
					Measurements: []v1alpha1.Measurement{
						{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: "[0.0031]", StartedAt: ptr(ago(90 * time.Second)), FinishedAt: ptr(ago(90 * time.Second))},
						{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: "[0.0042]", StartedAt: &fin, FinishedAt: &fin},
					}},
				{Name: "error-rate", Phase: v1alpha1.AnalysisPhaseSuccessful, Count: 1, Successful: 1,
					Measurements: []v1alpha1.Measurement{{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: "[0.0004]", FinishedAt: ptr(ago(80 * time.Second))}}},
			},
		},
	}
}

// canaryWorld is the paused canary with its ReplicaSets, pods, AnalysisRun, MLLPRoute and
// HTTPRoute.
func canaryWorld(t *testing.T) *testEnv {
	t.Helper()
	ro := pausedCanary()
	route := &mllpapi.MLLPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: roName, Namespace: testNS},
		Spec:       mllpapi.MLLPRouteSpec{Service: roName, StableService: roName + "-stable", CanaryService: roName + "-canary", Weight: 5, Port: intstr.FromString("mllp")},
		Status: mllpapi.MLLPRouteStatus{Replicas: []mllpapi.ReplicaStatus{
			{Name: "nerve-mllp-proxy-0", Weight: 5, Ready: true, HeartbeatTime: ago(time.Second), StableMessages: 9512, CanaryMessages: 488},
			{Name: "nerve-mllp-proxy-1", Weight: 5, Ready: true, HeartbeatTime: ago(30 * time.Second), StableMessages: 100, CanaryMessages: 0},
		}},
	}
	httpRoute := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": gatewayGroup + "/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "mllp-admin", "namespace": testNS},
		"spec": map[string]any{"rules": []any{map[string]any{"backendRefs": []any{
			map[string]any{"name": roName + "-stable", "port": int64(8080), "weight": int64(95)},
			map[string]any{"name": roName + "-canary", "port": int64(8080), "weight": int64(5)},
		}}}},
	}}
	dyn := []runtime.Object{
		toU(t, ro, "argoproj.io/v1alpha1", "Rollout"),
		toU(t, analysisRun(), "argoproj.io/v1alpha1", "AnalysisRun"),
		toU(t, route, mllpapi.Group+"/"+mllpapi.Version, mllpapi.Kind),
		httpRoute,
	}
	kube := []runtime.Object{
		replicaSet(canaryH, imgCanary, 2, 1, 3*time.Minute),
		replicaSet(stableH, imgStable, 1, 4, 72*time.Hour),
		pod(canaryH, 0, 3*time.Minute),
	}
	for i := range 4 {
		kube = append(kube, pod(stableH, i, 72*time.Hour))
	}
	return newTestEnv(t, dyn, kube...)
}
