package view

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/kube"
	"github.com/nerve-rollouts/nerve/router/gatewayapi"
)

// Reader reads Rollouts and what belongs to them, and builds their view. It never writes. Each
// method uses only the clients it needs; a method whose client is nil fails.
type Reader struct {
	// Dynamic reads Rollouts, AnalysisRuns and MLLPRoutes.
	Dynamic dynamic.Interface
	// Kube reads ReplicaSets and pods (Snapshot, Rollout, ReplicaSets).
	Kube *Kube
	// Gateway reads Gateway API routes (Traffic).
	Gateway *gatewayapi.Clients
	// Now is the clock of the views (time.Now when nil).
	Now func() time.Time
}

// Kube lists the built-in kinds the Reader reads (kube.Resources over the API server, or
// tests' fakes).
type Kube struct {
	ReplicaSets kube.API
	Pods        kube.API
}

// Snapshot is one read of a Rollout: the object as the API server sent it, its typed decoding,
// and its view.
type Snapshot struct {
	Raw    *unstructured.Unstructured
	Object *v1alpha1.Rollout
	View   Rollout
}

// RolloutList is one list of Rollouts: the list as the API server sent it and, in its order, a
// Snapshot per item whose View has no tree (no ReplicaSets, pods or AnalysisRuns are read).
type RolloutList struct {
	Raw   *unstructured.UnstructuredList
	Items []Snapshot
}

// errNoClient is returned by a method whose client the Reader lacks.
func errNoClient(which string) error { return fmt.Errorf("view.Reader: no %s client", which) }

func (r Reader) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func (r Reader) resource(res, ns string) (dynamic.ResourceInterface, error) {
	if r.Dynamic == nil {
		return nil, errNoClient("dynamic")
	}
	return r.Dynamic.Resource(v1alpha1.GroupVersionResource(res)).Namespace(ns), nil
}

// FromUnstructured converts an unstructured object into a typed one.
func FromUnstructured(u *unstructured.Unstructured, into any) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		return fmt.Errorf("decode %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}

// Get reads the Rollout ns/name, as sent and typed. API errors are returned as they are, so
// apierrors.IsNotFound works on them.
func (r Reader) Get(ctx context.Context, ns, name string) (*unstructured.Unstructured, *v1alpha1.Rollout, error) {
	res, err := r.resource(v1alpha1.RolloutResource, ns)
	if err != nil {
		return nil, nil, err
	}
	u, err := res.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, nil, err
	}
	ro := &v1alpha1.Rollout{}
	if err := FromUnstructured(u, ro); err != nil {
		return nil, nil, err
	}
	return u, ro, nil
}

// List lists the Rollouts of ns ("" for every namespace) that match the label selector ("" for
// all).
func (r Reader) List(ctx context.Context, ns, selector string) (RolloutList, error) {
	res, err := r.resource(v1alpha1.RolloutResource, ns)
	if err != nil {
		return RolloutList{}, err
	}
	list, err := res.List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return RolloutList{}, err
	}
	out := RolloutList{Raw: list, Items: make([]Snapshot, 0, len(list.Items))}
	now := r.now()
	for i := range list.Items {
		ro := &v1alpha1.Rollout{}
		if err := FromUnstructured(&list.Items[i], ro); err != nil {
			return RolloutList{}, err
		}
		out.Items = append(out.Items, Snapshot{Raw: &list.Items[i], Object: ro, View: Build(ro, nil, nil, nil, now)})
	}
	return out, nil
}

// Overview lists the Rollouts of ns ("" for every namespace) with their ReplicaSets and
// AnalysisRuns folded in (actual weights, revisions, analysis verdicts; no pods), reading each
// kind once for the namespace rather than once per Rollout.
func (r Reader) Overview(ctx context.Context, ns string) ([]Rollout, error) {
	if r.Kube == nil {
		return nil, errNoClient("kube")
	}
	list, err := r.List(ctx, ns, "")
	if err != nil {
		return nil, err
	}
	rss := &appsv1.ReplicaSetList{}
	if err := r.Kube.ReplicaSets.List(ctx, ns, metav1.ListOptions{}, rss); err != nil {
		return nil, fmt.Errorf("list replicasets: %w", err)
	}
	runs, err := r.listRuns(ctx, ns)
	if err != nil {
		return nil, err
	}
	out := make([]Rollout, 0, len(list.Items))
	now := r.now()
	for _, it := range list.Items {
		owned, _, err := ownedRuns(runs, it.Object.UID)
		if err != nil {
			return nil, err
		}
		out = append(out, Build(it.Object, rss.Items, nil, owned, now))
	}
	return out, nil
}

// Rollout reads the Rollout ns/name and its tree, and returns its view.
func (r Reader) Rollout(ctx context.Context, ns, name string) (Rollout, error) {
	s, err := r.Snapshot(ctx, ns, name)
	return s.View, err
}

// AnalysisRuns lists the AnalysisRuns of ns owned by the Rollout with uid, typed and as sent
// (none when the AnalysisRun CRD is missing).
func (r Reader) AnalysisRuns(ctx context.Context, ns string, uid types.UID) ([]v1alpha1.AnalysisRun, []unstructured.Unstructured, error) {
	all, err := r.listRuns(ctx, ns)
	if err != nil {
		return nil, nil, err
	}
	return ownedRuns(all, uid)
}

// listRuns lists every AnalysisRun of the namespace (none when the CRD is missing).
func (r Reader) listRuns(ctx context.Context, ns string) ([]unstructured.Unstructured, error) {
	res, err := r.resource(v1alpha1.AnalysisRunResource, ns)
	if err != nil {
		return nil, err
	}
	list, err := res.List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list analysisruns: %w", err)
	}
	return list.Items, nil
}

func ownedRuns(items []unstructured.Unstructured, uid types.UID) ([]v1alpha1.AnalysisRun, []unstructured.Unstructured, error) {
	var runs []v1alpha1.AnalysisRun
	var raw []unstructured.Unstructured
	for i := range items {
		if !ownedBy(items[i].GetOwnerReferences(), uid) {
			continue
		}
		var run v1alpha1.AnalysisRun
		if err := FromUnstructured(&items[i], &run); err != nil {
			return nil, nil, err
		}
		runs = append(runs, run)
		raw = append(raw, items[i])
	}
	return runs, raw, nil
}

// ReplicaSets lists the ReplicaSets of ro's selector that ro owns.
func (r Reader) ReplicaSets(ctx context.Context, ro *v1alpha1.Rollout) ([]appsv1.ReplicaSet, error) {
	all, err := r.listReplicaSets(ctx, ro)
	if err != nil {
		return nil, err
	}
	var out []appsv1.ReplicaSet
	for i := range all {
		if ownedBy(all[i].OwnerReferences, ro.UID) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

func (r Reader) listReplicaSets(ctx context.Context, ro *v1alpha1.Rollout) ([]appsv1.ReplicaSet, error) {
	if r.Kube == nil {
		return nil, errNoClient("Kubernetes")
	}
	sel, err := selectorOf(ro)
	if err != nil {
		return nil, err
	}
	l := &appsv1.ReplicaSetList{}
	if err := r.Kube.ReplicaSets.List(ctx, ro.Namespace, metav1.ListOptions{LabelSelector: sel}, l); err != nil {
		return nil, fmt.Errorf("list replicasets: %w", err)
	}
	return l.Items, nil
}

func (r Reader) listPods(ctx context.Context, ro *v1alpha1.Rollout) ([]corev1.Pod, error) {
	if r.Kube == nil {
		return nil, errNoClient("Kubernetes")
	}
	sel, err := selectorOf(ro)
	if err != nil {
		return nil, err
	}
	l := &corev1.PodList{}
	if err := r.Kube.Pods.List(ctx, ro.Namespace, metav1.ListOptions{LabelSelector: sel}, l); err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	return l.Items, nil
}

// tree holds the ReplicaSets and pods of a rollout.
type tree struct {
	rss  []appsv1.ReplicaSet
	pods []corev1.Pod
}

func selectorOf(ro *v1alpha1.Rollout) (string, error) {
	if ro.Spec.Selector == nil {
		return "", nil
	}
	s, err := metav1.LabelSelectorAsSelector(ro.Spec.Selector)
	if err != nil {
		return "", fmt.Errorf("rollout %s selector: %w", ro.Name, err)
	}
	return s.String(), nil
}

// Snapshot reads the Rollout ns/name and its tree and builds its view: the AnalysisRuns are
// listed while the Rollout is read, then the ReplicaSets and pods of its selector concurrently.
func (r Reader) Snapshot(ctx context.Context, ns, name string) (Snapshot, error) {
	var runItems []unstructured.Unstructured
	runsDone := make(chan error, 1)
	go func() {
		var err error
		runItems, err = r.listRuns(ctx, ns)
		runsDone <- err
	}()
	u, ro, err := r.Get(ctx, ns, name)
	if err != nil {
		<-runsDone
		return Snapshot{}, err
	}
	t, errTree := r.tree(ctx, ro)
	if err := <-runsDone; err != nil {
		return Snapshot{}, err
	}
	if errTree != nil {
		return Snapshot{}, errTree
	}
	runs, _, err := ownedRuns(runItems, ro.UID)
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{Raw: u, Object: ro, View: Build(ro, t.rss, t.pods, runs, r.now())}, nil
}

// tree lists the ReplicaSets and pods of ro's selector concurrently.
func (r Reader) tree(ctx context.Context, ro *v1alpha1.Rollout) (*tree, error) {
	if r.Kube == nil {
		return nil, errNoClient("Kubernetes")
	}
	t := &tree{}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		t.rss, err = r.listReplicaSets(gctx, ro)
		return err
	})
	g.Go(func() error {
		var err error
		t.pods, err = r.listPods(gctx, ro)
		return err
	})
	return t, g.Wait()
}
