// Package viewtest holds the fixtures of the read side's tests (the view package, kubectl nerve,
// the dashboard): a canary Rollout paused after setWeight 5 with its ReplicaSets, pods,
// AnalysisRun, MLLPRoute and HTTPRoute, at a fixed clock, and fake clientsets seeded with them.
// It is for tests only.
package viewtest

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwfake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/kube"
	"github.com/nerve-rollouts/nerve/kube/kubetest"
	"github.com/nerve-rollouts/nerve/router/gatewayapi"
	mllpapi "github.com/nerve-rollouts/nerve/router/mllp/api"
)

// Names of the world.
const (
	Namespace   = "clinical-ingestion"
	RolloutName = "mllp-listener"
	RolloutUID  = types.UID("ro-uid-1")
	StableHash  = "7d84d44bb8"
	CanaryHash  = "db976bc44"
	ImageStable = "registry.local/mllp-listener:1.4.1"
	ImageCanary = "registry.local/mllp-listener:1.4.2"
	// HTTPRouteName is the Gateway API route of the Rollout's admin traffic.
	HTTPRouteName = "mllp-admin"
)

// Now is the world's clock.
func Now() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }

// Ago is the time d before Now.
func Ago(d time.Duration) metav1.Time { return metav1.NewTime(Now().Add(-d)) }

func ptr[T any](v T) *T { return &v }

// ListKinds are the list kinds the fake dynamic client needs for the CRDs it serves.
func ListKinds() map[schema.GroupVersionResource]string {
	return map[schema.GroupVersionResource]string{
		v1alpha1.GroupVersionResource(v1alpha1.RolloutResource):     "RolloutList",
		v1alpha1.GroupVersionResource(v1alpha1.AnalysisRunResource): "AnalysisRunList",
		mllpapi.GroupVersionResource():                              mllpapi.ListKind,
	}
}

// NewDynamic is a fake dynamic client that serves Rollouts, AnalysisRuns and MLLPRoutes.
func NewDynamic(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), ListKinds(), objs...)
}

// ToUnstructured converts a typed object for the fake dynamic client.
func ToUnstructured(t testing.TB, obj any, apiVersion, kind string) *unstructured.Unstructured {
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

// RolloutObject is ro for the fake dynamic client.
func RolloutObject(t testing.TB, ro *v1alpha1.Rollout) *unstructured.Unstructured {
	t.Helper()
	return ToUnstructured(t, ro, v1alpha1.GroupVersion().String(), "Rollout")
}

// PausedCanary is the seed's rollout paused at step 1 (pause 5m) after setWeight 5, with an
// MLLP and a Gateway API router and a step AnalysisRun of revision 2.
func PausedCanary() *v1alpha1.Rollout {
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
		ObjectMeta: metav1.ObjectMeta{Name: RolloutName, Namespace: Namespace, UID: RolloutUID, Generation: 2,
			CreationTimestamp: Ago(72 * time.Hour)},
		Spec: v1alpha1.RolloutSpec{
			Replicas: ptr(int32(4)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": RolloutName}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": RolloutName}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "listener", Image: ImageCanary}}},
			},
			Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
				CanaryService: RolloutName + "-canary", StableService: RolloutName + "-stable", Steps: steps,
				TrafficRouting: &v1alpha1.RolloutTrafficRouting{Plugins: map[string]json.RawMessage{
					"nerve/mllp":       json.RawMessage(`{"route":"mllp-listener"}`),
					"nerve/gatewayAPI": json.RawMessage(`{"httpRoute":"` + HTTPRouteName + `"}`),
				}},
			}},
		},
		Status: v1alpha1.RolloutStatus{
			PauseConditions:    []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonCanaryPauseStep, StartTime: Ago(2 * time.Minute)}},
			ControllerPause:    true,
			CurrentPodHash:     CanaryHash,
			StableRS:           StableHash,
			CurrentStepIndex:   ptr(int32(1)),
			Replicas:           5,
			UpdatedReplicas:    1,
			ReadyReplicas:      5,
			AvailableReplicas:  5,
			ObservedGeneration: "2",
			Phase:              v1alpha1.RolloutPhasePaused,
			Message:            "CanaryPauseStep",
			Canary: v1alpha1.CanaryStatus{Weights: &v1alpha1.TrafficWeights{
				Canary: v1alpha1.WeightDestination{Weight: 5, ServiceName: RolloutName + "-canary", PodTemplateHash: CanaryHash},
				Stable: v1alpha1.WeightDestination{Weight: 95, ServiceName: RolloutName + "-stable", PodTemplateHash: StableHash},
			}},
		},
	}
}

// ReplicaSet is the Rollout's ReplicaSet of the pod-template hash, revision rev, created age
// ago.
func ReplicaSet(hash, image string, rev, replicas int32, age time.Duration) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: RolloutName + "-" + hash, Namespace: Namespace, UID: types.UID("rs-" + hash), CreationTimestamp: Ago(age),
			Labels:          map[string]string{"app": RolloutName, v1alpha1.DefaultRolloutUniqueLabelKey: hash},
			Annotations:     map[string]string{v1alpha1.RevisionAnnotation: strconv.Itoa(int(rev))},
			OwnerReferences: []metav1.OwnerReference{{UID: RolloutUID, Kind: "Rollout", Name: RolloutName}},
		},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr(replicas), Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": RolloutName, v1alpha1.DefaultRolloutUniqueLabelKey: hash}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "listener", Image: image}}},
		}},
		Status: appsv1.ReplicaSetStatus{Replicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas},
	}
}

// Pod is the i-th (0 to 3) running pod of the ReplicaSet of hash, created age ago.
func Pod(hash string, i int, age time.Duration) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: RolloutName + "-" + hash + "-" + []string{"a1b2c", "d3e4f", "g5h6i", "j7k8l"}[i], Namespace: Namespace, CreationTimestamp: Ago(age),
			Labels:          map[string]string{"app": RolloutName, v1alpha1.DefaultRolloutUniqueLabelKey: hash},
			OwnerReferences: []metav1.OwnerReference{{UID: types.UID("rs-" + hash), Kind: "ReplicaSet"}},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "listener"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "listener", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		}}},
	}
}

// AnalysisRun is the running step analysis of revision 2: ack-latency measured twice of five,
// error-rate done.
func AnalysisRun() *v1alpha1.AnalysisRun {
	svc := "mllp-listener"
	fin := Ago(30 * time.Second)
	return &v1alpha1.AnalysisRun{
		ObjectMeta: metav1.ObjectMeta{
			Name: RolloutName + "-" + CanaryHash + "-2-2", Namespace: Namespace, CreationTimestamp: Ago(90 * time.Second),
			Labels:          map[string]string{v1alpha1.DefaultRolloutUniqueLabelKey: CanaryHash, v1alpha1.RolloutTypeLabel: v1alpha1.RolloutTypeStepLabel},
			Annotations:     map[string]string{v1alpha1.RevisionAnnotation: "2"},
			OwnerReferences: []metav1.OwnerReference{{UID: RolloutUID, Kind: "Rollout", Name: RolloutName}},
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
			Phase: v1alpha1.AnalysisPhaseRunning, StartedAt: ptr(Ago(90 * time.Second)),
			MetricResults: []v1alpha1.MetricResult{
				{Name: "ack-latency", Phase: v1alpha1.AnalysisPhaseRunning, Count: 2, Successful: 2,
					Metadata: map[string]string{"ResolvedPrometheusQuery": `histogram_quantile(0.99, sum(rate(mllp_ack_latency_seconds_bucket{service="mllp-listener"}[5m])) by (le))`},
					Measurements: []v1alpha1.Measurement{
						{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: "[0.0031]", StartedAt: ptr(Ago(90 * time.Second)), FinishedAt: ptr(Ago(90 * time.Second))},
						{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: "[0.0042]", StartedAt: &fin, FinishedAt: &fin},
					}},
				{Name: "error-rate", Phase: v1alpha1.AnalysisPhaseSuccessful, Count: 1, Successful: 1,
					Measurements: []v1alpha1.Measurement{{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: "[0.0004]", FinishedAt: ptr(Ago(80 * time.Second))}}},
			},
		},
	}
}

// MLLPRoute is the Rollout's MLLPRoute at weight 5 with two proxy replicas, one of them stale.
func MLLPRoute() *mllpapi.MLLPRoute {
	return &mllpapi.MLLPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: RolloutName, Namespace: Namespace},
		Spec: mllpapi.MLLPRouteSpec{Service: RolloutName, StableService: RolloutName + "-stable", CanaryService: RolloutName + "-canary",
			Weight: 5, Port: intstr.FromString("mllp")},
		Status: mllpapi.MLLPRouteStatus{Replicas: []mllpapi.ReplicaStatus{
			{Name: "nerve-mllp-proxy-0", Weight: 5, Ready: true, HeartbeatTime: Ago(time.Second), StableMessages: 9512, CanaryMessages: 488},
			{Name: "nerve-mllp-proxy-1", Weight: 5, Ready: true, HeartbeatTime: Ago(30 * time.Second), StableMessages: 100, CanaryMessages: 0},
		}},
	}
}

// HTTPRoute is the Rollout's HTTPRoute, weighted 95/5.
func HTTPRoute() *gatewayv1.HTTPRoute {
	backend := func(svc string, w int32) gatewayv1.HTTPBackendRef {
		return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{Weight: ptr(w),
			BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(svc), Port: ptr(gatewayv1.PortNumber(8080))}}}
	}
	return &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: HTTPRouteName, Namespace: Namespace},
		Spec: gatewayv1.HTTPRouteSpec{Rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{
			backend(RolloutName+"-stable", 95), backend(RolloutName+"-canary", 5),
		}}}},
	}
}

// World is the paused canary's objects, per client that serves them.
type World struct {
	// Dynamic holds the Rollout, its AnalysisRun and its MLLPRoute (unstructured).
	Dynamic []runtime.Object
	// Kube holds the stable (4 pods) and canary (1 pod) ReplicaSets and their pods.
	Kube []runtime.Object
	// Gateway holds the HTTPRoute.
	Gateway []runtime.Object
}

// CanaryWorld is the paused canary with its ReplicaSets, pods, AnalysisRun, MLLPRoute and
// HTTPRoute.
func CanaryWorld(t testing.TB) World {
	t.Helper()
	w := World{
		Dynamic: []runtime.Object{
			RolloutObject(t, PausedCanary()),
			ToUnstructured(t, AnalysisRun(), v1alpha1.GroupVersion().String(), "AnalysisRun"),
			ToUnstructured(t, MLLPRoute(), mllpapi.GroupVersion().String(), mllpapi.Kind),
		},
		Kube: []runtime.Object{
			ReplicaSet(CanaryHash, ImageCanary, 2, 1, 3*time.Minute),
			ReplicaSet(StableHash, ImageStable, 1, 4, 72*time.Hour),
			Pod(CanaryHash, 0, 3*time.Minute),
		},
		Gateway: []runtime.Object{HTTPRoute()},
	}
	for i := range 4 {
		w.Kube = append(w.Kube, Pod(StableHash, i, 72*time.Hour))
	}
	return w
}

// Fakes are fake clientsets seeded with a World.
type Fakes struct {
	Dynamic *dynamicfake.FakeDynamicClient
	Kube    *kubefake.Clientset
	Gateway *gwfake.Clientset
}

// ReplicaSets is the ReplicaSets API of the fake Kubernetes clientset.
func (f Fakes) ReplicaSets() kube.API {
	return kubetest.New(&f.Kube.Fake, appsv1.SchemeGroupVersion.WithResource("replicasets"), "ReplicaSet")
}

// Pods is the pods API of the fake Kubernetes clientset.
func (f Fakes) Pods() kube.API {
	return kubetest.New(&f.Kube.Fake, corev1.SchemeGroupVersion.WithResource("pods"), "Pod")
}

// GatewayClients are the Gateway API router's clients over the fake clientsets.
func (f Fakes) GatewayClients() *gatewayapi.Clients {
	return gatewayapi.ClientsFrom(func(gvr schema.GroupVersionResource, kind string) kube.API {
		if gvr.Group == "" {
			return kubetest.New(&f.Kube.Fake, gvr, kind)
		}
		return kubetest.New(&f.Gateway.Fake, gvr, kind)
	})
}

// Fakes returns fake clientsets seeded with w.
func (w World) Fakes() Fakes {
	return Fakes{Dynamic: NewDynamic(w.Dynamic...), Kube: kubefake.NewClientset(w.Kube...), Gateway: gwfake.NewSimpleClientset(w.Gateway...)}
}
