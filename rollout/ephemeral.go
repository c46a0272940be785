package rollout

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// EphemeralMetadataAnnotation records on a ReplicaSet the pod metadata the controller injected
// into its template (Argo's key and JSON), so that it can later remove exactly that and nothing
// another controller (a sidecar injector, say) added.
const EphemeralMetadataAnnotation = "rollout.argoproj.io/ephemeral-metadata"

// ephemeralMetadata returns the metadata for the canary (new) and the stable pods:
// spec.strategy.canary.{canaryMetadata,stableMetadata} or
// spec.strategy.blueGreen.{previewMetadata,activeMetadata}.
func ephemeralMetadata(ro *v1alpha1.Rollout) (newMD, stableMD *v1alpha1.PodTemplateMetadata, ok bool) {
	if c := ro.Spec.Strategy.Canary; c != nil {
		return c.CanaryMetadata, c.StableMetadata, c.CanaryMetadata != nil || c.StableMetadata != nil
	}
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		return bg.PreviewMetadata, bg.ActiveMetadata, bg.PreviewMetadata != nil || bg.ActiveMetadata != nil
	}
	return nil, nil, false
}

// creationMetadata is the metadata a new ReplicaSet is created with, as Argo's
// createDesiredReplicaSet: the canary's when a stable ReplicaSet exists, else the stable's (a
// first revision becomes stable at once).
func (rc *rolloutCtx) creationMetadata() *v1alpha1.PodTemplateMetadata {
	newMD, stableMD, _ := ephemeralMetadata(rc.ro)
	if rc.stableRS != nil {
		return newMD
	}
	return stableMD
}

// reconcileEphemeralMetadata keeps the injected metadata of every ReplicaSet and of its pods in
// step with the Rollout, as Argo's reconcileEphemeralMetadata: while an update is in progress the
// new ReplicaSet carries the canary metadata and the stable one the stable metadata; once fully
// promoted the new ReplicaSet carries the stable metadata; every other ReplicaSet carries none.
func (rc *rolloutCtx) reconcileEphemeralMetadata(ctx context.Context) error {
	newMD, stableMD, ok := ephemeralMetadata(rc.ro)
	if !ok {
		return nil
	}
	st := rc.ro.Status.StableRS
	if st == "" || st == rsHash(rc.newRS) {
		if err := rc.syncEphemeral(ctx, rc.newRS, stableMD); err != nil {
			return err
		}
	} else {
		if err := rc.syncEphemeral(ctx, rc.newRS, newMD); err != nil {
			return err
		}
		if err := rc.syncEphemeral(ctx, rc.stableRS, stableMD); err != nil {
			return err
		}
	}
	for _, rs := range rc.others {
		if err := rc.syncEphemeral(ctx, rs, nil); err != nil {
			return err
		}
	}
	return nil
}

// syncEphemeral writes want into rs's pod template (and the annotation that remembers it) and
// then into the pods rs already runs: the ReplicaSet first, so that a pod created in between
// gets the new metadata.
func (rc *rolloutCtx) syncEphemeral(ctx context.Context, rs *appsv1.ReplicaSet, want *v1alpha1.PodTemplateMetadata) error {
	if rs == nil {
		return nil
	}
	injected := injectedMetadata(rs)
	if cp, changed := withEphemeral(rs, want); changed {
		updated, err := rc.c.api.UpdateReplicaSet(ctx, cp)
		if err != nil {
			return fmt.Errorf("failed to sync ephemeral metadata: %w", err)
		}
		*rs = *updated
		klog.FromContext(ctx).V(2).Info("synced ephemeral metadata to ReplicaSet", "replicaSet", rs.Name)
	}
	if ptr.Deref(rs.Spec.Replicas, 0) == 0 {
		return nil
	}
	return rc.syncPodsEphemeral(ctx, rs, injected, want)
}

// syncPodsEphemeral patches the labels and annotations of rs's pods that differ from want (or
// were injected before and are no longer wanted). Every pod is tried; the first error is returned.
func (rc *rolloutCtx) syncPodsEphemeral(ctx context.Context, rs *appsv1.ReplicaSet, injected, want *v1alpha1.PodTemplateMetadata) error {
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		return err
	}
	pods, err := rc.c.api.ListPods(ctx, rs.Namespace, sel.String())
	if err != nil {
		return err
	}
	var first error
	for i := range pods.Items {
		p := &pods.Items[i]
		if !metav1.IsControlledBy(p, rs) || p.DeletionTimestamp != nil {
			continue
		}
		patch := metadataPatch(&p.ObjectMeta, injected, want)
		if patch == nil {
			continue
		}
		err := rc.c.api.PatchPod(ctx, p.Namespace, p.Name, patch)
		if err != nil && !apierrors.IsNotFound(err) && first == nil {
			first = fmt.Errorf("failed to sync ephemeral metadata to pod %s: %w", p.Name, err)
		}
	}
	return first
}

// injectedMetadata is what the annotation says was injected; nil when absent or unreadable.
func injectedMetadata(rs *appsv1.ReplicaSet) *v1alpha1.PodTemplateMetadata {
	s, ok := rs.Annotations[EphemeralMetadataAnnotation]
	if !ok {
		return nil
	}
	var md *v1alpha1.PodTemplateMetadata
	if json.Unmarshal([]byte(s), &md) != nil {
		return nil
	}
	return md
}

// withEphemeral returns a copy of rs whose template carries want (and no longer what was
// injected before and is not wanted), annotated with want; changed is false when the template
// already matches, and then nothing else changes either (as Argo).
func withEphemeral(rs *appsv1.ReplicaSet, want *v1alpha1.PodTemplateMetadata) (*appsv1.ReplicaSet, bool) {
	cp := rs.DeepCopy()
	meta, changed := syncMetadata(cp.Spec.Template.ObjectMeta, injectedMetadata(rs), want)
	if !changed {
		return cp, false
	}
	cp.Spec.Template.ObjectMeta = meta
	if want == nil {
		delete(cp.Annotations, EphemeralMetadataAnnotation)
		return cp, true
	}
	b, _ := json.Marshal(want)
	if cp.Annotations == nil {
		cp.Annotations = map[string]string{}
	}
	cp.Annotations[EphemeralMetadataAnnotation] = string(b)
	return cp, true
}

// syncMetadata sets want's labels and annotations on meta and removes those of injected that
// want no longer has; it reports whether anything changed.
func syncMetadata(meta metav1.ObjectMeta, injected, want *v1alpha1.PodTemplateMetadata) (metav1.ObjectMeta, bool) {
	var wantL, wantA, oldL, oldA map[string]string
	if want != nil {
		wantL, wantA = want.Labels, want.Annotations
	}
	if injected != nil {
		oldL, oldA = injected.Labels, injected.Annotations
	}
	var cl, ca bool
	meta.Labels, cl = syncMap(meta.Labels, oldL, wantL)
	meta.Annotations, ca = syncMap(meta.Annotations, oldA, wantA)
	return meta, cl || ca
}

func syncMap(cur, old, want map[string]string) (map[string]string, bool) {
	out := maps.Clone(cur)
	changed := false
	for k, v := range want {
		if prev, ok := out[k]; !ok || prev != v {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
			changed = true
		}
	}
	for k := range old {
		if _, still := want[k]; still {
			continue
		}
		if _, ok := out[k]; ok {
			delete(out, k)
			changed = true
		}
	}
	return out, changed
}

// metadataPatch is the merge patch that brings a pod's metadata to want; nil when none is needed.
func metadataPatch(meta *metav1.ObjectMeta, injected, want *v1alpha1.PodTemplateMetadata) []byte {
	next, changed := syncMetadata(*meta, injected, want)
	if !changed {
		return nil
	}
	labels, annotations := mapPatch(meta.Labels, next.Labels), mapPatch(meta.Annotations, next.Annotations)
	md := map[string]any{}
	if len(labels) > 0 {
		md["labels"] = labels
	}
	if len(annotations) > 0 {
		md["annotations"] = annotations
	}
	b, _ := json.Marshal(map[string]any{"metadata": md})
	return b
}

// mapPatch is the merge-patch map from cur to next (removed keys are null).
func mapPatch(cur, next map[string]string) map[string]any {
	p := map[string]any{}
	for k, v := range next {
		if old, ok := cur[k]; !ok || old != v {
			p[k] = v
		}
	}
	for k := range cur {
		if _, ok := next[k]; !ok {
			p[k] = nil
		}
	}
	return p
}

// withoutEphemeral is rs's pod template without the injected metadata, for comparing it with
// the Rollout's template.
func withoutEphemeral(rs *appsv1.ReplicaSet) *appsv1.ReplicaSet {
	cp := rs.DeepCopy()
	cp.Spec.Template.ObjectMeta, _ = syncMetadata(cp.Spec.Template.ObjectMeta, injectedMetadata(rs), nil)
	return cp
}
