package rollout

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// fakeAPI is an in-memory API server: every write lands in the indexers the Controller's
// listers read, as if the watch delivered it at once. Writes check resourceVersion like the
// API server, so a sync that writes from a stale copy conflicts as it would on a cluster. With
// readyPods, a ReplicaSet's status follows its spec (every pod is available at once).
type fakeAPI struct {
	rollouts, runs, replicaSets, services cache.Indexer
	pods                                  []corev1.Pod
	secrets                               map[string]*corev1.Secret
	readyPods                             bool
	// runPods makes the fake run each ReplicaSet's pods as the ReplicaSet controller would:
	// pods from its template, added and removed to match spec.replicas (not counted as writes).
	runPods bool
	now     func() metav1.Time
	writes  int // successful writes, to tell a settled sync
	uids    int
	// pdbBlocks makes every eviction fail as a PodDisruptionBudget would (429).
	pdbBlocks        bool
	evictionsRefused int
	statusPatches    []string
}

func newIndexer() cache.Indexer {
	return cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
}

func gr(resource string) schema.GroupResource { return schema.GroupResource{Resource: resource} }

func key(ns, name string) string { return ns + "/" + name }

// get returns the stored object under ns/name, or the API server's NotFound.
func get[T any](idx cache.Indexer, resource, ns, name string) (T, error) {
	var zero T
	obj, ok, err := idx.GetByKey(key(ns, name))
	if err != nil {
		return zero, err
	}
	if !ok {
		return zero, apierrors.NewNotFound(gr(resource), name)
	}
	return obj.(T), nil
}

// nextRV bumps a resourceVersion.
func nextRV(rv string) string {
	n, _ := strconv.Atoi(rv)
	return strconv.Itoa(n + 1)
}

// checkRV is the API server's optimistic concurrency: a write carrying an old resourceVersion
// conflicts.
func checkRV(resource, name, sent, stored string) error {
	if sent != "" && sent != stored {
		return apierrors.NewConflict(gr(resource), name, fmt.Errorf("resourceVersion %s is not %s", sent, stored))
	}
	return nil
}

// create stores a new object (AlreadyExists when present) with a uid, a creation time and
// resourceVersion 1.
func (a *fakeAPI) create(idx cache.Indexer, resource string, o metav1.Object) error {
	if _, ok, _ := idx.GetByKey(key(o.GetNamespace(), o.GetName())); ok {
		return apierrors.NewAlreadyExists(gr(resource), o.GetName())
	}
	a.uids++
	o.SetUID(types.UID(fmt.Sprintf("uid-%d", a.uids)))
	o.SetCreationTimestamp(a.now())
	o.SetResourceVersion("1")
	a.writes++
	return idx.Add(o)
}

// update replaces a stored object after the resourceVersion check.
func (a *fakeAPI) update(idx cache.Indexer, resource string, stored, o metav1.Object) error {
	if err := checkRV(resource, o.GetName(), o.GetResourceVersion(), stored.GetResourceVersion()); err != nil {
		return err
	}
	o.SetResourceVersion(nextRV(stored.GetResourceVersion()))
	a.writes++
	return idx.Update(o)
}

func (a *fakeAPI) remove(idx cache.Indexer, obj any) error {
	a.writes++
	return idx.Delete(obj)
}

// mergePatch applies an RFC 7386 JSON merge patch to a copy of obj.
func mergePatch[T any](obj *T, patch []byte) (*T, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var doc, p map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	out, err := json.Marshal(mergeJSON(doc, p))
	if err != nil {
		return nil, err
	}
	res := new(T)
	return res, json.Unmarshal(out, res)
}

func mergeJSON(dst, patch map[string]any) map[string]any {
	for k, v := range patch {
		pm, isMap := v.(map[string]any)
		switch {
		case v == nil:
			delete(dst, k)
		case isMap:
			dm, _ := dst[k].(map[string]any)
			if dm == nil {
				dm = map[string]any{}
			}
			dst[k] = mergeJSON(dm, pm)
		default:
			dst[k] = v
		}
	}
	return dst
}

// PatchRolloutStatus applies the merge patch to the stored Rollout's status only, with the
// patch's metadata.resourceVersion as the precondition (as the status subresource does).
func (a *fakeAPI) PatchRolloutStatus(_ context.Context, ns, name string, patch []byte) (*v1alpha1.Rollout, error) {
	stored, err := get[*v1alpha1.Rollout](a.rollouts, "rollouts", ns, name)
	if err != nil {
		return nil, err
	}
	a.statusPatches = append(a.statusPatches, string(patch))
	patched, err := mergePatch(stored, patch)
	if err != nil {
		return nil, err
	}
	out := stored.DeepCopy() // the status subresource writes the status only
	out.Status = patched.Status
	out.ResourceVersion = patched.ResourceVersion
	if err := a.update(a.rollouts, "rollouts", stored, out); err != nil {
		return nil, err
	}
	return out.DeepCopy(), nil
}

func (a *fakeAPI) PatchRollout(_ context.Context, ns, name string, patch []byte) (*v1alpha1.Rollout, error) {
	stored, err := get[*v1alpha1.Rollout](a.rollouts, "rollouts", ns, name)
	if err != nil {
		return nil, err
	}
	out, err := mergePatch(stored, patch)
	if err != nil {
		return nil, err
	}
	if err := a.update(a.rollouts, "rollouts", stored, out); err != nil {
		return nil, err
	}
	return out.DeepCopy(), nil
}

// ready makes the ReplicaSet's pods available at once when readyPods is set.
func (a *fakeAPI) ready(rs *appsv1.ReplicaSet) {
	if a.readyPods {
		n := ptr.Deref(rs.Spec.Replicas, 0)
		rs.Status.Replicas, rs.Status.ReadyReplicas, rs.Status.AvailableReplicas = n, n, n
	}
}

func (a *fakeAPI) CreateReplicaSet(_ context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	out := rs.DeepCopy()
	a.ready(out)
	if err := a.create(a.replicaSets, "replicasets", out); err != nil {
		return nil, err
	}
	a.runPodsOf(out)
	return out.DeepCopy(), nil
}

// runPodsOf adds pods (from the template) or removes the newest ones until rs runs spec.replicas.
func (a *fakeAPI) runPodsOf(rs *appsv1.ReplicaSet) {
	if !a.runPods {
		return
	}
	var kept []corev1.Pod
	n := int32(0)
	for _, p := range a.pods {
		if metav1.IsControlledBy(&p, rs) {
			if n >= ptr.Deref(rs.Spec.Replicas, 0) {
				continue
			}
			n++
		}
		kept = append(kept, p)
	}
	for ; n < ptr.Deref(rs.Spec.Replicas, 0); n++ {
		a.uids++
		p := corev1.Pod{ObjectMeta: *rs.Spec.Template.ObjectMeta.DeepCopy(), Spec: *rs.Spec.Template.Spec.DeepCopy()}
		p.Name, p.Namespace = fmt.Sprintf("%s-%d", rs.Name, a.uids), rs.Namespace
		p.UID, p.CreationTimestamp = types.UID(fmt.Sprintf("uid-%d", a.uids)), a.now()
		p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}
		kept = append(kept, p)
	}
	a.pods = kept
}

func (a *fakeAPI) GetReplicaSet(_ context.Context, ns, name string) (*appsv1.ReplicaSet, error) {
	rs, err := get[*appsv1.ReplicaSet](a.replicaSets, "replicasets", ns, name)
	if err != nil {
		return nil, err
	}
	return rs.DeepCopy(), nil
}

func (a *fakeAPI) UpdateReplicaSet(_ context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	stored, err := get[*appsv1.ReplicaSet](a.replicaSets, "replicasets", rs.Namespace, rs.Name)
	if err != nil {
		return nil, err
	}
	out := rs.DeepCopy()
	a.ready(out)
	if err := a.update(a.replicaSets, "replicasets", stored, out); err != nil {
		return nil, err
	}
	a.runPodsOf(out)
	return out.DeepCopy(), nil
}

func (a *fakeAPI) DeleteReplicaSet(_ context.Context, ns, name string) error {
	rs, err := get[*appsv1.ReplicaSet](a.replicaSets, "replicasets", ns, name)
	if err != nil {
		return err
	}
	return a.remove(a.replicaSets, rs)
}

func (a *fakeAPI) PatchService(_ context.Context, ns, name string, patch []byte) error {
	stored, err := get[*corev1.Service](a.services, "services", ns, name)
	if err != nil {
		return err
	}
	out, err := mergePatch(stored, patch)
	if err != nil {
		return err
	}
	return a.update(a.services, "services", stored, out)
}

func (a *fakeAPI) ListPods(_ context.Context, ns, labelSelector string) (*corev1.PodList, error) {
	sel, err := labels.Parse(labelSelector)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	out := &corev1.PodList{}
	for _, p := range a.pods {
		if p.Namespace == ns && sel.Matches(labels.Set(p.Labels)) {
			out.Items = append(out.Items, *p.DeepCopy())
		}
	}
	return out, nil
}

// EvictPod removes the pod unless a PodDisruptionBudget is simulated (pdbBlocks: the API
// server's 429 Too Many Requests).
func (a *fakeAPI) EvictPod(_ context.Context, ns, name string) error {
	if a.pdbBlocks {
		a.evictionsRefused++
		return apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
	}
	for i, p := range a.pods {
		if p.Namespace == ns && p.Name == name {
			a.pods = append(a.pods[:i], a.pods[i+1:]...)
			a.writes++
			return nil
		}
	}
	return apierrors.NewNotFound(gr("pods"), name)
}

func (a *fakeAPI) PatchPod(_ context.Context, ns, name string, patch []byte) error {
	for i, p := range a.pods {
		if p.Namespace == ns && p.Name == name {
			out, err := mergePatch(&p, patch)
			if err != nil {
				return err
			}
			a.pods[i] = *out
			a.writes++
			return nil
		}
	}
	return apierrors.NewNotFound(gr("pods"), name)
}

func (a *fakeAPI) GetSecret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	if s, ok := a.secrets[key(ns, name)]; ok {
		return s.DeepCopy(), nil
	}
	return nil, apierrors.NewNotFound(gr("secrets"), name)
}

func (a *fakeAPI) CreateAnalysisRun(_ context.Context, run *v1alpha1.AnalysisRun) (*v1alpha1.AnalysisRun, error) {
	out := run.DeepCopy()
	if err := a.create(a.runs, "analysisruns", out); err != nil {
		return nil, err
	}
	return out.DeepCopy(), nil
}

func (a *fakeAPI) GetAnalysisRun(_ context.Context, ns, name string) (*v1alpha1.AnalysisRun, error) {
	run, err := get[*v1alpha1.AnalysisRun](a.runs, "analysisruns", ns, name)
	if err != nil {
		return nil, err
	}
	return run.DeepCopy(), nil
}

func (a *fakeAPI) PatchAnalysisRun(_ context.Context, ns, name string, patch []byte) error {
	stored, err := get[*v1alpha1.AnalysisRun](a.runs, "analysisruns", ns, name)
	if err != nil {
		return err
	}
	out, err := mergePatch(stored, patch)
	if err != nil {
		return err
	}
	return a.update(a.runs, "analysisruns", stored, out)
}

func (a *fakeAPI) UpdateAnalysisRunStatus(_ context.Context, run *v1alpha1.AnalysisRun) (*v1alpha1.AnalysisRun, error) {
	stored, err := get[*v1alpha1.AnalysisRun](a.runs, "analysisruns", run.Namespace, run.Name)
	if err != nil {
		return nil, err
	}
	out := run.DeepCopy()
	if err := a.update(a.runs, "analysisruns", stored, out); err != nil {
		return nil, err
	}
	return out.DeepCopy(), nil
}

func (a *fakeAPI) DeleteAnalysisRun(_ context.Context, ns, name string) error {
	run, err := get[*v1alpha1.AnalysisRun](a.runs, "analysisruns", ns, name)
	if err != nil {
		return err
	}
	return a.remove(a.runs, run)
}
