package rollout

import (
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/rules"
)

func TestPodTemplateHashStableAndCollision(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "a"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
	a, _ := PodTemplateHash(tmpl, nil)
	b, _ := PodTemplateHash(tmpl.DeepCopy(), nil)
	c, _ := PodTemplateHash(tmpl, ptr.To[int32](1))
	if a != b || a == c || a == "" {
		t.Fatalf("hashes %q %q %q", a, b, c)
	}
}

func TestRolloutArgs(t *testing.T) {
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"app.kubernetes.io/name": "web"}}}
	ro.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c", Image: "img:1"}}
	ro.Status.StableRS = "s1"
	stable, latest := v1alpha1.Stable, v1alpha1.Latest
	args, err := rolloutArgs(ro, "c2", []v1alpha1.AnalysisRunArgument{
		{Name: "v", Value: "x"},
		{Name: "stable", ValueFrom: &v1alpha1.ArgumentValueFrom{PodTemplateHashValue: &stable}},
		{Name: "latest", ValueFrom: &v1alpha1.ArgumentValueFrom{PodTemplateHashValue: &latest}},
		{Name: "label", ValueFrom: &v1alpha1.ArgumentValueFrom{FieldRef: &v1alpha1.FieldRef{FieldPath: "metadata.labels['app.kubernetes.io/name']"}}},
		{Name: "image", ValueFrom: &v1alpha1.ArgumentValueFrom{FieldRef: &v1alpha1.FieldRef{FieldPath: "spec.template.spec.containers[0].image"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"x", "s1", "c2", "web", "img:1"}
	for i, a := range args {
		if *a.Value != want[i] {
			t.Errorf("%s = %q want %q", a.Name, *a.Value, want[i])
		}
	}
	_, err = rolloutArgs(ro, "c2", []v1alpha1.AnalysisRunArgument{{Name: "bad", ValueFrom: &v1alpha1.ArgumentValueFrom{FieldRef: &v1alpha1.FieldRef{FieldPath: "metadata.labels['nope']"}}}})
	if err == nil {
		t.Fatal("unresolvable fieldRef accepted")
	}
}

func TestPhase(t *testing.T) {
	ro := &v1alpha1.Rollout{Spec: v1alpha1.RolloutSpec{Replicas: ptr.To[int32](2), Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{}}}}
	cases := []struct {
		name  string
		st    v1alpha1.RolloutStatus
		phase v1alpha1.RolloutPhase
		msg   string
	}{
		{"healthy", v1alpha1.RolloutStatus{StableRS: "a", CurrentPodHash: "a", Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2}, v1alpha1.RolloutPhaseHealthy, ""},
		{"paused", v1alpha1.RolloutStatus{PauseConditions: []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonCanaryPauseStep}}}, v1alpha1.RolloutPhasePaused, "CanaryPauseStep"},
		{"aborted", v1alpha1.RolloutStatus{Conditions: []v1alpha1.RolloutCondition{{Type: v1alpha1.RolloutProgressing, Reason: "RolloutAborted", Message: "m"}}}, v1alpha1.RolloutPhaseDegraded, "RolloutAborted: m"},
		{"invalid", v1alpha1.RolloutStatus{Conditions: []v1alpha1.RolloutCondition{{Type: v1alpha1.InvalidSpec, Status: corev1.ConditionTrue, Message: "bad"}}}, v1alpha1.RolloutPhaseDegraded, "InvalidSpec: bad"},
		{"updating", v1alpha1.RolloutStatus{StableRS: "a", CurrentPodHash: "b", Replicas: 3, UpdatedReplicas: 1, AvailableReplicas: 3}, v1alpha1.RolloutPhaseProgressing, "more replicas need to be updated"},
		{"steps", v1alpha1.RolloutStatus{StableRS: "a", CurrentPodHash: "b", Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2}, v1alpha1.RolloutPhaseProgressing, "waiting for all steps to complete"},
	}
	for _, c := range cases {
		p, m := rules.Phase(ro, c.st)
		if p != c.phase || m != c.msg {
			t.Errorf("%s: %s %q want %s %q", c.name, p, m, c.phase, c.msg)
		}
	}
}

func TestParsePath(t *testing.T) {
	for path, want := range map[string][3]string{
		"/api/v1/namespaces/ns/services/svc":                         {"services", "ns", "svc"},
		"/apis/argoproj.io/v1alpha1/namespaces/ns/rollouts/r/status": {"rollouts", "ns", "r"},
		"/apis/apps/v1/replicasets":                                  {"replicasets", "", ""},
	} {
		k, ns, n := parsePath(path)
		if [3]string{k, ns, n} != want {
			t.Errorf("%s: %v", path, [3]string{k, ns, n})
		}
	}
}

func TestRequestMetricLabelsAsArgo(t *testing.T) {
	m := NewMetrics()
	rt := m.WrapTransport(roundTripper(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}))
	for _, r := range []struct{ method, url string }{
		{http.MethodGet, "https://h/apis/apps/v1/namespaces/ns/replicasets?labelSelector=x"},
		{http.MethodGet, "https://h/apis/apps/v1/namespaces/ns/replicasets?watch=true"},
		{http.MethodPut, "https://h/apis/apps/v1/namespaces/ns/replicasets/web-abc"},
		{http.MethodPatch, "https://h/api/v1/namespaces/ns/events/web.1234"},
		{http.MethodPut, "https://h/apis/argoproj.io/v1alpha1/namespaces/ns/rollouts/web/status"},
		{http.MethodGet, "https://h/api/v1/namespaces/ns/configmaps?fieldSelector=metadata.name%3Dargo-rollouts-config&watch=true"},
	} {
		req, _ := http.NewRequest(r.method, r.url, nil)
		if _, err := rt.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range [][]string{
		{"replicasets", "ns", "N/A", "List", "200"},
		{"replicasets", "ns", "N/A", "Watch", "200"},
		{"replicasets", "ns", "N/A", "Update", "200"},
		{"events", "ns", "N/A", "Patch", "200"},
		{"rollouts", "ns", "web", "Update", "200"},
		{"configmaps", "ns", "argo-rollouts-config", "Watch", "200"},
	} {
		if got := m.k8sRequests.value(want...); got != 1 {
			t.Errorf("controller_clientset_k8s_request_total%v = %v, want 1", want, got)
		}
	}
}
