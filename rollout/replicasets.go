package rollout

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// DesiredReplicasAnnotation records spec.replicas of the Rollout on its ReplicaSets (as Argo).
const DesiredReplicasAnnotation = "rollout.argoproj.io/desired-replicas"

func rsHash(rs *appsv1.ReplicaSet) string {
	if rs == nil {
		return ""
	}
	return rs.Labels[v1alpha1.DefaultRolloutUniqueLabelKey]
}

func revisionOf(obj metav1.Object) int64 {
	v, err := strconv.ParseInt(obj.GetAnnotations()[v1alpha1.RevisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

func maxRevision(rss []*appsv1.ReplicaSet) int64 {
	var m int64
	for _, rs := range rss {
		m = max(m, revisionOf(rs))
	}
	return m
}

// classify splits the owned ReplicaSets into new (current pod hash), stable and the others, and
// returns the current pod hash: the template's, or, when no ReplicaSet carries it, the hash of
// a ReplicaSet whose template is the Rollout's (as Argo's FindNewReplicaSet: `kubectl argo
// rollouts undo` copies a ReplicaSet's API-defaulted template into the Rollout, whose hash then
// differs from the ReplicaSet's, and the rollback must reuse that ReplicaSet).
func (rc *rolloutCtx) classify(rss []*appsv1.ReplicaSet, podHash string) string {
	rc.all = rss
	rc.newRS, rc.stableRS, rc.others = nil, nil, nil
	for _, rs := range rss {
		switch rsHash(rs) {
		case podHash:
			rc.newRS = rs
		}
		if rc.ro.Status.StableRS != "" && rsHash(rs) == rc.ro.Status.StableRS {
			rc.stableRS = rs
		}
	}
	if rc.newRS == nil {
		if rs := rc.sameTemplate(rss); rs != nil {
			rc.newRS, podHash = rs, rsHash(rs)
		}
	}
	for _, rs := range rss {
		if (rc.newRS == nil || rs.Name != rc.newRS.Name) && (rc.stableRS == nil || rs.Name != rc.stableRS.Name) {
			rc.others = append(rc.others, rs)
		}
	}
	return podHash
}

// sameTemplate is the oldest ReplicaSet whose pod template, without the pod-template-hash label
// and the injected ephemeral metadata, equals the Rollout's.
func (rc *rolloutCtx) sameTemplate(rss []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	var found *appsv1.ReplicaSet
	for _, rs := range rss {
		if rsHash(rs) == "" || rs.DeletionTimestamp != nil {
			continue
		}
		t := withoutEphemeral(rs).Spec.Template
		delete(t.Labels, v1alpha1.DefaultRolloutUniqueLabelKey)
		if equality.Semantic.DeepEqual(t, rc.ro.Spec.Template) && (found == nil || rs.CreationTimestamp.Before(&found.CreationTimestamp)) {
			found = rs
		}
	}
	return found
}

// newReplicaSet builds the ReplicaSet for the current pod template.
func (rc *rolloutCtx) newReplicaSet(podHash string, revision int64) *appsv1.ReplicaSet {
	ro := rc.ro
	tmpl := *ro.Spec.Template.DeepCopy()
	if tmpl.Labels == nil {
		tmpl.Labels = map[string]string{}
	}
	tmpl.Labels[v1alpha1.DefaultRolloutUniqueLabelKey] = podHash
	tmpl.Spec.Affinity = replicaSetAffinity(ro, podHash)
	sel := ro.Spec.Selector.DeepCopy()
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	sel.MatchLabels[v1alpha1.DefaultRolloutUniqueLabelKey] = podHash
	labels := map[string]string{}
	for k, v := range tmpl.Labels {
		labels[k] = v
	}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:      ro.Name + "-" + podHash,
			Namespace: ro.Namespace,
			Labels:    labels,
			Annotations: map[string]string{
				v1alpha1.RevisionAnnotation: strconv.FormatInt(revision, 10),
				DesiredReplicasAnnotation:   strconv.Itoa(int(canary.Replicas(ro))),
			},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ro, v1alpha1.GroupVersionKind(v1alpha1.RolloutKind))},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        ptr.To[int32](0),
			MinReadySeconds: ro.Spec.MinReadySeconds,
			Selector:        sel,
			Template:        tmpl,
		},
	}
	rs, _ = withEphemeral(rs, rc.creationMetadata())
	return rs
}

// ensureNewRS creates the ReplicaSet of the current template (0 replicas) when missing, and
// keeps its revision the highest. A name clash with a different template bumps collisionCount.
func (rc *rolloutCtx) ensureNewRS(ctx context.Context, podHash string) error {
	others := rc.all
	if rc.newRS != nil {
		return rc.bumpRevision(ctx, others)
	}
	rev := maxRevision(others) + 1
	want := rc.newReplicaSet(podHash, rev)
	created, err := rc.c.api.CreateReplicaSet(ctx, want)
	if apierrors.IsAlreadyExists(err) {
		existing, gerr := rc.c.api.GetReplicaSet(ctx, want.Namespace, want.Name)
		if gerr != nil {
			return gerr
		}
		if metav1.IsControlledBy(existing, rc.ro) && equality.Semantic.DeepEqual(withoutEphemeral(existing).Spec.Template, withoutEphemeral(want).Spec.Template) {
			rc.newRS = existing
			return nil
		}
		cc := ptr.Deref(rc.status.CollisionCount, 0) + 1
		rc.status.CollisionCount = &cc
		return fmt.Errorf("hash collision for ReplicaSet %s: collisionCount now %d", want.Name, cc)
	}
	if err != nil {
		rc.event("Warning", reasonRSCreateError, "Failed to create new replica set %q: %v", want.Name, err)
		return err
	}
	rc.newRS = created
	rc.all = append(rc.all, created)
	rc.event("Normal", "NewReplicaSetCreated", "Created ReplicaSet %s (revision %d)", created.Name, rev)
	return nil
}

// bumpRevision gives a re-used ReplicaSet (rollback) a revision above all others.
func (rc *rolloutCtx) bumpRevision(ctx context.Context, all []*appsv1.ReplicaSet) error {
	var othersMax int64
	for _, rs := range all {
		if rs.Name != rc.newRS.Name {
			othersMax = max(othersMax, revisionOf(rs))
		}
	}
	if revisionOf(rc.newRS) > othersMax {
		return nil
	}
	rs := rc.newRS.DeepCopy()
	rs.Annotations[v1alpha1.RevisionAnnotation] = strconv.FormatInt(othersMax+1, 10)
	updated, err := rc.c.api.UpdateReplicaSet(ctx, rs)
	if err != nil {
		return err
	}
	rc.newRS = updated
	return nil
}

// scaleRS sets spec.replicas of rs (and the desired-replicas annotation), applies mutate to the
// copy it writes, and emits Argo's ScalingReplicaSet event; it reports whether the replica count
// changed. Nothing is written when nothing changed.
func (rc *rolloutCtx) scaleRS(ctx context.Context, rs *appsv1.ReplicaSet, n int32, mutate func(*appsv1.ReplicaSet)) (bool, error) {
	if rs == nil {
		return false, nil
	}
	cur := ptr.Deref(rs.Spec.Replicas, 0)
	desiredAnn := strconv.Itoa(int(canary.Replicas(rc.ro)))
	cp := rs.DeepCopy()
	if cp.Annotations == nil {
		cp.Annotations = map[string]string{}
	}
	cp.Spec.Replicas = ptr.To(n)
	cp.Annotations[DesiredReplicasAnnotation] = desiredAnn
	if mutate != nil {
		mutate(cp)
	}
	if equality.Semantic.DeepEqual(cp.Spec, rs.Spec) && equality.Semantic.DeepEqual(cp.Annotations, rs.Annotations) {
		return false, nil
	}
	updated, err := rc.c.api.UpdateReplicaSet(ctx, cp)
	if err != nil {
		return false, fmt.Errorf("scale ReplicaSet %s: %w", rs.Name, err)
	}
	*rs = *updated
	if cur != n {
		dir := "up"
		if n < cur {
			dir = "down"
		}
		rc.event("Normal", "ScalingReplicaSet", "Scaled %s ReplicaSet %s (revision %d) from %d to %d", dir, rs.Name, revisionOf(rs), cur, n)
	}
	return cur != n, nil
}

// reconcileRevisionHistory deletes scaled-down old ReplicaSets beyond revisionHistoryLimit
// (default 10), oldest first.
func (rc *rolloutCtx) reconcileRevisionHistory(ctx context.Context) error {
	limit := int(ptr.Deref(rc.ro.Spec.RevisionHistoryLimit, 10))
	var idle []*appsv1.ReplicaSet
	for _, rs := range rc.others {
		if ptr.Deref(rs.Spec.Replicas, 0) == 0 && rs.Status.Replicas == 0 && rs.DeletionTimestamp == nil && !rc.referenced(rs) {
			idle = append(idle, rs)
		}
	}
	if len(idle) <= limit {
		return nil
	}
	sort.Slice(idle, func(i, j int) bool { return revisionOf(idle[i]) < revisionOf(idle[j]) })
	for _, rs := range idle[:len(idle)-limit] {
		err := rc.c.api.DeleteReplicaSet(ctx, rs.Namespace, rs.Name)
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// referenced reports whether a ReplicaSet still receives traffic per the recorded weights.
func (rc *rolloutCtx) referenced(rs *appsv1.ReplicaSet) bool {
	h := rsHash(rs)
	st := rc.ro.Status
	if h == st.StableRS || h == st.CurrentPodHash || h == st.BlueGreen.ActiveSelector || h == st.BlueGreen.PreviewSelector {
		return true
	}
	if w := st.Canary.Weights; w != nil {
		if h == w.Canary.PodTemplateHash || h == w.Stable.PodTemplateHash {
			return true
		}
	}
	return false
}

func deadline(rs *appsv1.ReplicaSet) (time.Time, bool) {
	v, ok := rs.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey]
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil
}
