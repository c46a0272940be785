package rollout

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// fixture is a Controller over fakeAPI, fake plugins and an event log, with listers over the
// fake's indexers: a sync runs end to end without an API server.
type fixture struct {
	c       *Controller
	api     *fakeAPI
	events  *eventLog
	plugins *fakePlugins
	now     time.Time
}

func newFixture(t *testing.T, objs ...any) *fixture {
	t.Helper()
	fx := &fixture{events: &eventLog{}, plugins: &fakePlugins{routers: map[string]*fakeRouter{}, metrics: map[string]bool{"fake/metric": true}}, now: time.Unix(10000, 0)}
	fx.api = &fakeAPI{rollouts: newIndexer(), runs: newIndexer(), replicaSets: newIndexer(), services: newIndexer(),
		secrets: map[string]*corev1.Secret{}, readyPods: true, now: func() metav1.Time { return metav1.NewTime(fx.now) }}
	templates, clusterTmpls := unstartedInformer(&v1alpha1.AnalysisTemplate{}), unstartedInformer(&v1alpha1.ClusterAnalysisTemplate{})
	for _, o := range objs {
		fx.add(t, o, templates.GetIndexer(), clusterTmpls.GetIndexer())
	}
	fx.c = &Controller{api: fx.api, plugins: fx.plugins, recorder: fx.events, metrics: NewMetrics(), now: func() time.Time { return fx.now },
		rollouts: informerOver(fx.api.rollouts, &v1alpha1.Rollout{}), runs: informerOver(fx.api.runs, &v1alpha1.AnalysisRun{}),
		templates: templates, clusterTmpls: clusterTmpls,
		svcLister: corelisters.NewServiceLister(fx.api.services), rsLister: appslisters.NewReplicaSetLister(fx.api.replicaSets)}
	return fx
}

// add stores a seed object where the Controller reads it.
func (fx *fixture) add(t *testing.T, o any, templates, clusterTmpls cache.Indexer) {
	t.Helper()
	var err error
	switch o := o.(type) {
	case *v1alpha1.Rollout:
		err = fx.api.rollouts.Add(o)
	case *v1alpha1.AnalysisRun:
		err = fx.api.runs.Add(o)
	case *appsv1.ReplicaSet:
		err = fx.api.replicaSets.Add(o)
	case *corev1.Service:
		err = fx.api.services.Add(o)
	case *corev1.Pod:
		fx.api.pods = append(fx.api.pods, *o)
	case *corev1.Secret:
		fx.api.secrets[key(o.Namespace, o.Name)] = o
	case *v1alpha1.AnalysisTemplate:
		err = templates.Add(o)
	case *v1alpha1.ClusterAnalysisTemplate:
		err = clusterTmpls.Add(o)
	default:
		t.Fatalf("fixture: unsupported seed %T", o)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// unstartedInformer is an informer that never runs: tests fill its indexer directly.
func unstartedInformer(example runtime.Object) cache.SharedIndexInformer {
	return cache.NewSharedIndexInformer(&cache.ListWatch{}, example, 0,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
}

// informerOver is an unstarted informer whose indexer holds the objects of idx (kept in step:
// the fake API writes to idx and the informer reads idx).
func informerOver(idx cache.Indexer, example runtime.Object) cache.SharedIndexInformer {
	return indexerInformer{SharedIndexInformer: unstartedInformer(example), idx: idx}
}

type indexerInformer struct {
	cache.SharedIndexInformer
	idx cache.Indexer
}

func (i indexerInformer) GetIndexer() cache.Indexer { return i.idx }
func (i indexerInformer) GetStore() cache.Store     { return i.idx }

// eventLog is an EventRecorder that keeps every event as "type reason message".
type eventLog struct{ events []string }

func (l *eventLog) Event(_ runtime.Object, typ, reason, msg string) {
	l.events = append(l.events, typ+" "+reason+" "+msg)
}

func (l *eventLog) Eventf(o runtime.Object, typ, reason, format string, args ...any) {
	l.Event(o, typ, reason, fmt.Sprintf(format, args...))
}

func (l *eventLog) AnnotatedEventf(o runtime.Object, _ map[string]string, typ, reason, format string, args ...any) {
	l.Eventf(o, typ, reason, format, args...)
}

// has reports whether an event was recorded with exactly this text.
func (l *eventLog) count(ev string) int {
	n := 0
	for _, e := range l.events {
		if e == ev {
			n++
		}
	}
	return n
}

func (l *eventLog) has(ev string) bool {
	for _, e := range l.events {
		if e == ev {
			return true
		}
	}
	return false
}

func (fx *fixture) ctx(ro *v1alpha1.Rollout) *rolloutCtx {
	return &rolloutCtx{c: fx.c, ro: ro, status: *ro.Status.DeepCopy()}
}

// canary is the canary strategy over a fresh context for ro.
func (fx *fixture) canary(ro *v1alpha1.Rollout) *canaryStrategy {
	rc := fx.ctx(ro)
	cs := &canaryStrategy{rc}
	rc.strategy = cs
	return cs
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
	rc := fx.canary(ro)
	rc.stableRS, rc.newRS = replicaSet("web-s1", "s1", 4, 4), replicaSet("web-c2", "c2", 1, 1)
	if err := rc.reconcileServices(context.Background()); err != nil {
		t.Fatal(err)
	}
	for svc, hash := range map[string]string{"web-stable": "s1", "web-canary": "c2"} {
		got, _ := get[*corev1.Service](fx.api.services, "services", "ns", svc)
		if got.Spec.Selector[v1alpha1.DefaultRolloutUniqueLabelKey] != hash || got.Spec.Selector["app"] != "web" ||
			got.Annotations[v1alpha1.ManagedByRolloutsKey] != "web" {
			t.Errorf("%s: selector %v annotations %v", svc, got.Spec.Selector, got.Annotations)
		}
	}
}

func TestServiceManagedByAnotherRollout(t *testing.T) {
	fx := newFixture(t, service("web-stable", map[string]string{v1alpha1.ManagedByRolloutsKey: "other"}))
	rc := fx.canary(testRollout())
	err := rc.pointService(context.Background(), "web-stable", replicaSet("web-s1", "s1", 1, 1))
	if err == nil || !strings.Contains(err.Error(), "managed by another Rollout") {
		t.Fatalf("err %v", err)
	}
	if len(fx.events.events) != 1 || !strings.Contains(fx.events.events[0], "ServiceReferenceError") {
		t.Fatalf("events %q", fx.events.events)
	}
}

func TestScaleRecordsArgoEvent(t *testing.T) {
	rs := replicaSet("web-c2", "c2", 1, 1)
	fx := newFixture(t, rs)
	rc := fx.canary(testRollout())
	scaled, err := rc.scale(context.Background(), rs, 3, nil)
	if err != nil || !scaled || *rs.Spec.Replicas != 3 || rs.Annotations[DesiredReplicasAnnotation] != "4" {
		t.Fatalf("scaled=%v err=%v rs=%+v", scaled, err, rs.Spec)
	}
	if !fx.events.has("Normal ScalingReplicaSet Scaled up ReplicaSet web-c2 (revision 1) from 1 to 3") {
		t.Fatalf("events %q", fx.events.events)
	}
}

func TestAbortKeepsCanaryUntilAbortScaleDownDelay(t *testing.T) {
	stable, canaryRS := replicaSet("web-s1", "s1", 4, 4), replicaSet("web-c2", "c2", 2, 2)
	fx := newFixture(t, stable, canaryRS)
	ro := testRollout()
	ro.Status.StableRS, ro.Status.CurrentPodHash, ro.Status.Abort = "s1", "c2", true
	ro.Spec.Strategy.Canary.AbortScaleDownDelaySeconds = ptr.To[int32](5)
	rc := fx.canary(ro)
	rc.all = []*appsv1.ReplicaSet{stable, canaryRS}
	rc.classify(rc.all, "c2")
	if _, err := rc.reconcileReplicaSets(context.Background()); err != nil {
		t.Fatal(err)
	}
	if *rc.newRS.Spec.Replicas != 2 || rc.newRS.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey] == "" || rc.requeue != 5*time.Second {
		t.Fatalf("canary %d replicas, deadline %q, requeue %s", *rc.newRS.Spec.Replicas, rc.newRS.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey], rc.requeue)
	}
	fx.now = fx.now.Add(6 * time.Second)
	rc2 := fx.canary(ro)
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
	rc := fx.canary(testRollout())
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
		rc := fx.canary(testRollout())
		run := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "r", Labels: map[string]string{v1alpha1.RolloutTypeLabel: c.typ}}}
		run.Status.Phase, run.Status.Message = v1alpha1.AnalysisPhaseFailed, c.runMsg
		rc.react(run)
		if !rc.status.Abort || rc.abortMsg != c.want {
			t.Errorf("%s run: abort=%v message %q, want %q", c.typ, rc.status.Abort, rc.abortMsg, c.want)
		}
	}
}
