package cli

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
	"k8s.io/client-go/kubernetes"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/view"
)

// clients are the API clients of one command run.
type clients struct {
	dyn  dynamic.Interface
	kube kubernetes.Interface
	ns   string
}

func (f *Factory) clients(needKube bool) (*clients, error) {
	ns, err := f.Namespace()
	if err != nil {
		return nil, err
	}
	dyn, err := f.Dynamic()
	if err != nil {
		return nil, err
	}
	c := &clients{dyn: dyn, ns: ns}
	if needKube {
		if c.kube, err = f.Kube(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *clients) rollouts() dynamic.ResourceInterface {
	return c.dyn.Resource(v1alpha1.GroupVersionResource(v1alpha1.RolloutResource)).Namespace(c.ns)
}

func (c *clients) analysisRuns() dynamic.ResourceInterface {
	return c.dyn.Resource(v1alpha1.GroupVersionResource(v1alpha1.AnalysisRunResource)).Namespace(c.ns)
}

// fromUnstructured converts an unstructured object into a typed one.
func fromUnstructured(u *unstructured.Unstructured, into any) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		return fmt.Errorf("decode %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}

func (c *clients) getRollout(ctx context.Context, name string) (*unstructured.Unstructured, *v1alpha1.Rollout, error) {
	u, err := c.rollouts().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, nil, err
	}
	ro := &v1alpha1.Rollout{}
	if err := fromUnstructured(u, ro); err != nil {
		return nil, nil, err
	}
	return u, ro, nil
}

// runsOf lists the AnalysisRuns owned by the Rollout with uid.
func (c *clients) runsOf(ctx context.Context, uid types.UID) ([]v1alpha1.AnalysisRun, []unstructured.Unstructured, error) {
	all, err := c.listRuns(ctx)
	if err != nil {
		return nil, nil, err
	}
	return ownedRuns(all, uid)
}

// listRuns lists every AnalysisRun of the namespace (none when the CRD is missing).
func (c *clients) listRuns(ctx context.Context) ([]unstructured.Unstructured, error) {
	list, err := c.analysisRuns().List(ctx, metav1.ListOptions{})
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
		if !ownedByUID(items[i].GetOwnerReferences(), uid) {
			continue
		}
		var run v1alpha1.AnalysisRun
		if err := fromUnstructured(&items[i], &run); err != nil {
			return nil, nil, err
		}
		runs = append(runs, run)
		raw = append(raw, items[i])
	}
	return runs, raw, nil
}

func ownedByUID(refs []metav1.OwnerReference, uid types.UID) bool {
	for _, r := range refs {
		if r.UID == uid {
			return true
		}
	}
	return false
}

// tree holds the ReplicaSets, pods and AnalysisRuns of a rollout.
type tree struct {
	rss  []appsv1.ReplicaSet
	pods []corev1.Pod
	runs []v1alpha1.AnalysisRun
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

// rolloutView fetches the rollout and its tree: the AnalysisRuns are listed while the rollout
// is read, then the ReplicaSets and pods of its selector concurrently.
func (c *clients) rolloutView(ctx context.Context, name string, now time.Time) (*unstructured.Unstructured, *v1alpha1.Rollout, view.Rollout, error) {
	var runItems []unstructured.Unstructured
	runsDone := make(chan error, 1)
	go func() {
		var err error
		runItems, err = c.listRuns(ctx)
		runsDone <- err
	}()
	u, ro, err := c.getRollout(ctx, name)
	if err != nil {
		<-runsDone
		return nil, nil, view.Rollout{}, err
	}
	sel, err := selectorOf(ro)
	if err != nil {
		<-runsDone
		return nil, nil, view.Rollout{}, err
	}
	t := &tree{}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		l, err := c.kube.AppsV1().ReplicaSets(c.ns).List(gctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return fmt.Errorf("list replicasets: %w", err)
		}
		t.rss = l.Items
		return nil
	})
	g.Go(func() error {
		l, err := c.kube.CoreV1().Pods(c.ns).List(gctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return fmt.Errorf("list pods: %w", err)
		}
		t.pods = l.Items
		return nil
	})
	errTree := g.Wait()
	if err := <-runsDone; err != nil {
		return nil, nil, view.Rollout{}, err
	}
	if errTree != nil {
		return nil, nil, view.Rollout{}, errTree
	}
	if t.runs, _, err = ownedRuns(runItems, ro.UID); err != nil {
		return nil, nil, view.Rollout{}, err
	}
	return u, ro, view.Build(ro, t.rss, t.pods, t.runs, now), nil
}
