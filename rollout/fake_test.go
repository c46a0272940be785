package rollout

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// fixture is a Controller over a fake clientset whose listers are seeded directly.
type fixture struct {
	c        *Controller
	kube     *fake.Clientset
	recorder *record.FakeRecorder
	now      time.Time
}

func newFixture(t *testing.T, objs ...any) *fixture {
	t.Helper()
	kube := fake.NewClientset()
	f := informers.NewSharedInformerFactory(kube, 0)
	svcInf, rsInf := f.Core().V1().Services().Informer(), f.Apps().V1().ReplicaSets().Informer()
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Service:
			_, _ = kube.CoreV1().Services(o.Namespace).Create(context.Background(), o, metav1.CreateOptions{})
			_ = svcInf.GetIndexer().Add(o)
		case *appsv1.ReplicaSet:
			_, _ = kube.AppsV1().ReplicaSets(o.Namespace).Create(context.Background(), o, metav1.CreateOptions{})
			_ = rsInf.GetIndexer().Add(o)
		}
	}
	fx := &fixture{kube: kube, recorder: record.NewFakeRecorder(100), now: time.Unix(10000, 0)}
	fx.c = &Controller{kube: kube, recorder: fx.recorder, metrics: NewMetrics(), now: func() time.Time { return fx.now },
		svcLister: f.Core().V1().Services().Lister(), rsLister: f.Apps().V1().ReplicaSets().Lister()}
	return fx
}

func (fx *fixture) ctx(ro *v1alpha1.Rollout) *rolloutCtx {
	return &rolloutCtx{c: fx.c, ro: ro, status: *ro.Status.DeepCopy()}
}

func testRollout() *v1alpha1.Rollout {
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "uid"},
		Spec: v1alpha1.RolloutSpec{Replicas: ptr.To[int32](4), Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
			StableService: "web-stable", CanaryService: "web-canary",
			TrafficRouting: &v1alpha1.RolloutTrafficRouting{},
			Steps:          []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](50)}},
		}}},
	}
}

func replicaSet(name, hash string, spec, avail int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{v1alpha1.DefaultRolloutUniqueLabelKey: hash},
			Annotations: map[string]string{v1alpha1.RevisionAnnotation: "1"}},
		Spec:   appsv1.ReplicaSetSpec{Replicas: ptr.To(spec)},
		Status: appsv1.ReplicaSetStatus{Replicas: spec, AvailableReplicas: avail},
	}
}

func service(name string, annotations map[string]string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Annotations: annotations},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}}}
}

func TestServiceSelectorInjection(t *testing.T) {
	fx := newFixture(t, service("web-stable", nil), service("web-canary", nil))
	ro := testRollout()
	ro.Status.StableRS = "s1"
	rc := fx.ctx(ro)
	rc.stableRS, rc.newRS = replicaSet("web-s1", "s1", 4, 4), replicaSet("web-c2", "c2", 1, 1)
	if err := rc.reconcileServices(context.Background()); err != nil {
		t.Fatal(err)
	}
	for svc, hash := range map[string]string{"web-stable": "s1", "web-canary": "c2"} {
		got, _ := fx.kube.CoreV1().Services("ns").Get(context.Background(), svc, metav1.GetOptions{})
		if got.Spec.Selector[v1alpha1.DefaultRolloutUniqueLabelKey] != hash || got.Spec.Selector["app"] != "web" ||
			got.Annotations[v1alpha1.ManagedByRolloutsKey] != "web" {
			t.Errorf("%s: selector %v annotations %v", svc, got.Spec.Selector, got.Annotations)
		}
	}
}

func TestServiceManagedByAnotherRollout(t *testing.T) {
	fx := newFixture(t, service("web-stable", map[string]string{v1alpha1.ManagedByRolloutsKey: "other"}))
	rc := fx.ctx(testRollout())
	err := rc.pointService(context.Background(), "web-stable", replicaSet("web-s1", "s1", 1, 1))
	if err == nil || !strings.Contains(err.Error(), "managed by another Rollout") {
		t.Fatalf("err %v", err)
	}
	if ev := <-fx.recorder.Events; !strings.Contains(ev, "ServiceReferenceError") {
		t.Fatalf("event %q", ev)
	}
}

func TestScaleRecordsArgoEvent(t *testing.T) {
	rs := replicaSet("web-c2", "c2", 1, 1)
	fx := newFixture(t, rs)
	rc := fx.ctx(testRollout())
	scaled, err := rc.scale(context.Background(), rs, 3, nil)
	if err != nil || !scaled || *rs.Spec.Replicas != 3 || rs.Annotations[DesiredReplicasAnnotation] != "4" {
		t.Fatalf("scaled=%v err=%v rs=%+v", scaled, err, rs.Spec)
	}
	if ev := <-fx.recorder.Events; ev != "Normal ScalingReplicaSet Scaled up ReplicaSet web-c2 (revision 1) from 1 to 3" {
		t.Fatalf("event %q", ev)
	}
}

func TestAbortKeepsCanaryUntilAbortScaleDownDelay(t *testing.T) {
	stable, canaryRS := replicaSet("web-s1", "s1", 4, 4), replicaSet("web-c2", "c2", 2, 2)
	fx := newFixture(t, stable, canaryRS)
	ro := testRollout()
	ro.Status.StableRS, ro.Status.CurrentPodHash, ro.Status.Abort = "s1", "c2", true
	ro.Spec.Strategy.Canary.AbortScaleDownDelaySeconds = ptr.To[int32](5)
	rc := fx.ctx(ro)
	rc.all = []*appsv1.ReplicaSet{stable, canaryRS}
	rc.classify(rc.all, "c2")
	if _, err := rc.reconcileReplicaSets(context.Background()); err != nil {
		t.Fatal(err)
	}
	if *rc.newRS.Spec.Replicas != 2 || rc.newRS.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey] == "" || rc.requeue != 5*time.Second {
		t.Fatalf("canary %d replicas, deadline %q, requeue %s", *rc.newRS.Spec.Replicas, rc.newRS.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey], rc.requeue)
	}
	fx.now = fx.now.Add(6 * time.Second)
	rc2 := fx.ctx(ro)
	rc2.classify([]*appsv1.ReplicaSet{stable, rc.newRS}, "c2")
	if _, err := rc2.reconcileReplicaSets(context.Background()); err != nil {
		t.Fatal(err)
	}
	if *rc2.newRS.Spec.Replicas != 0 {
		t.Fatalf("canary still at %d after the deadline", *rc2.newRS.Spec.Replicas)
	}
	if rc2.newRS.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey] == "" {
		t.Fatal("the aborted canary lost its scale-down deadline when scaled to 0 (Argo keeps it)")
	}
}

// TestFullScaleDownDropsDeadline: as in Argo, an old ReplicaSet scaled to 0 once its
// scale-down delay passed loses the deadline annotation (kubectl argo rollouts shows no
// "delay:passed" for it).
func TestFullScaleDownDropsDeadline(t *testing.T) {
	old := replicaSet("web-o1", "o1", 2, 2)
	old.Annotations = map[string]string{v1alpha1.ScaleDownDeadlineAnnotationKey: time.Unix(9000, 0).UTC().Format(time.RFC3339)}
	fx := newFixture(t, old)
	rc := fx.ctx(testRollout())
	if _, err := rc.scale(context.Background(), old, 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := old.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey]; ok || *old.Spec.Replicas != 0 {
		t.Fatalf("scaled to %d, annotations %v", *old.Spec.Replicas, old.Annotations)
	}
}

// TestAnalysisAbortMessageAsArgo: a failed step or background run aborts with Argo's message,
// which embeds the run's message.
func TestAnalysisAbortMessageAsArgo(t *testing.T) {
	for _, c := range []struct{ typ, runMsg, want string }{
		{v1alpha1.RolloutTypeStepLabel, `Metric "m" assessed Failed due to failed (1) > failureLimit (0)`,
			`Step-based analysis phase error/failed: Metric "m" assessed Failed due to failed (1) > failureLimit (0)`},
		{v1alpha1.RolloutTypeBackgroundRunLabel, "", "Background analysis phase error/failed"},
	} {
		fx := newFixture(t)
		rc := fx.ctx(testRollout())
		run := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "r", Labels: map[string]string{v1alpha1.RolloutTypeLabel: c.typ}}}
		run.Status.Phase, run.Status.Message = v1alpha1.AnalysisPhaseFailed, c.runMsg
		rc.react(run)
		if !rc.status.Abort || rc.abortMsg != c.want {
			t.Errorf("%s run: abort=%v message %q, want %q", c.typ, rc.status.Abort, rc.abortMsg, c.want)
		}
	}
}
