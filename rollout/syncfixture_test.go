package rollout

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Sync tests run syncRollout end to end over fakeAPI: they seed objects, change the Rollout as
// a user or kubectl would, sync until the loop settles, and assert on the resulting objects.

const routerName = "fake/router"

func setWeight(w int32) v1alpha1.CanaryStep { return v1alpha1.CanaryStep{SetWeight: ptr.To(w)} }

func pauseFor(d string) v1alpha1.CanaryStep {
	p := &v1alpha1.RolloutPause{}
	if d != "" {
		p.Duration = ptr.To(intstr.FromString(d))
	}
	return v1alpha1.CanaryStep{Pause: p}
}

func analysisStep(template string) v1alpha1.CanaryStep {
	return v1alpha1.CanaryStep{Analysis: &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: template}}}}
}

// syncedRollout is a traffic-routed canary of 4 replicas over the fake router, never reconciled.
func syncedRollout(steps ...v1alpha1.CanaryStep) *v1alpha1.Rollout {
	labels := map[string]string{"app": "web"}
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "ro-uid", Generation: 1, ResourceVersion: "1"},
		Spec: v1alpha1.RolloutSpec{
			Replicas: ptr.To[int32](4),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web:1"}}}},
			Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
				StableService: "web-stable", CanaryService: "web-canary",
				TrafficRouting: &v1alpha1.RolloutTrafficRouting{Plugins: map[string]json.RawMessage{routerName: json.RawMessage(`{}`)}},
				Steps:          steps,
			}},
		},
	}
}

// newSyncFixture seeds the Rollout, its two Services and the router plugin, and brings the
// first revision to Healthy.
func newSyncFixture(t *testing.T, ro *v1alpha1.Rollout, objs ...any) *fixture {
	t.Helper()
	fx := newFixture(t, append([]any{ro, service("web-stable", nil), service("web-canary", nil)}, objs...)...)
	fx.plugins.router(routerName)
	fx.settle(t)
	if st := fx.rollout(t).Status; st.Phase != v1alpha1.RolloutPhaseHealthy {
		t.Fatalf("first revision: phase %s %q", st.Phase, st.Message)
	}
	return fx
}

// sync runs syncRollout as a worker does; a conflict (the cache behind the loop's own write) is
// retried, as the workqueue would.
func (fx *fixture) sync(t *testing.T) time.Duration {
	t.Helper()
	for range 3 {
		after, err := fx.c.syncRollout(context.Background(), cache.ObjectName{Namespace: "ns", Name: "web"})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			t.Fatalf("sync: %v", err)
		}
		return after
	}
	t.Fatal("sync: conflicts every time")
	return 0
}

// settle syncs until a sync writes nothing and asks for no quick requeue: every write would
// trigger another sync through the informers, and a short requeue is the loop moving on. It
// returns the last requeue.
func (fx *fixture) settle(t *testing.T) time.Duration {
	t.Helper()
	for range 100 {
		writes := fx.api.writes
		after := fx.sync(t)
		if fx.api.writes == writes && (after == 0 || after >= time.Second) {
			return after
		}
	}
	t.Fatalf("the loop did not settle; status %+v", fx.rollout(t).Status)
	return 0
}

func (fx *fixture) rollout(t *testing.T) *v1alpha1.Rollout {
	t.Helper()
	ro, err := get[*v1alpha1.Rollout](fx.api.rollouts, "rollouts", "ns", "web")
	if err != nil {
		t.Fatal(err)
	}
	return ro.DeepCopy()
}

// edit changes the stored Rollout as a client would (a spec change bumps the generation).
func (fx *fixture) edit(t *testing.T, change func(*v1alpha1.Rollout)) {
	t.Helper()
	ro := fx.rollout(t)
	change(ro)
	ro.Generation++
	ro.ResourceVersion = nextRV(ro.ResourceVersion)
	if err := fx.api.rollouts.Update(ro); err != nil {
		t.Fatal(err)
	}
}

// newImage ships a new pod template, as `kubectl argo rollouts set image` does.
func newImage(ro *v1alpha1.Rollout) { ro.Spec.Template.Spec.Containers[0].Image = "web:2" }

// rs returns the Rollout's ReplicaSet of a pod hash.
func (fx *fixture) rs(t *testing.T, hash string) *appsv1.ReplicaSet {
	t.Helper()
	rs, err := get[*appsv1.ReplicaSet](fx.api.replicaSets, "replicasets", "ns", "web-"+hash)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func replicas(rs *appsv1.ReplicaSet) int32 { return ptr.Deref(rs.Spec.Replicas, 0) }

func stepIndex(st v1alpha1.RolloutStatus) int32 { return ptr.Deref(st.CurrentStepIndex, -1) }

// toCanary brings a settled Rollout to a new revision and syncs until it settles.
func (fx *fixture) toCanary(t *testing.T) (stable, canary string) {
	t.Helper()
	stable = fx.rollout(t).Status.StableRS
	fx.edit(t, newImage)
	fx.settle(t)
	return stable, fx.rollout(t).Status.CurrentPodHash
}

// editStatus changes the stored Rollout's status as kubectl argo rollouts does (abort, promote,
// retry patch the status subresource; the generation stays).
func (fx *fixture) editStatus(t *testing.T, change func(*v1alpha1.RolloutStatus)) {
	t.Helper()
	ro := fx.rollout(t)
	change(&ro.Status)
	ro.ResourceVersion = nextRV(ro.ResourceVersion)
	if err := fx.api.rollouts.Update(ro); err != nil {
		t.Fatal(err)
	}
}
