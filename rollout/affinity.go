package rollout

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// antiAffinityOf is the strategy's antiAffinity when it names a rule (Argo's GetRolloutAffinity).
func antiAffinityOf(ro *v1alpha1.Rollout) *v1alpha1.AntiAffinity {
	var aa *v1alpha1.AntiAffinity
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		aa = bg.AntiAffinity
	}
	if c := ro.Spec.Strategy.Canary; c != nil && c.AntiAffinity != nil {
		aa = c.AntiAffinity
	}
	if aa == nil || (aa.PreferredDuringSchedulingIgnoredDuringExecution == nil && aa.RequiredDuringSchedulingIgnoredDuringExecution == nil) {
		return nil
	}
	return aa
}

// replicaSetAffinity is the pod template's affinity for a new ReplicaSet: with antiAffinity
// set and a different stable ReplicaSet, Argo's injected rule keeps the new pods off the nodes
// of the stable ReplicaSet's pods (label rollouts-pod-template-hash In [stable], topology
// kubernetes.io/hostname), preferred with the given weight or required.
func replicaSetAffinity(ro *v1alpha1.Rollout, podHash string) *corev1.Affinity {
	aff := ro.Spec.Template.Spec.Affinity.DeepCopy()
	aa := antiAffinityOf(ro)
	if aa == nil || ro.Status.StableRS == "" || ro.Status.StableRS == podHash {
		return aff
	}
	term := corev1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: v1alpha1.DefaultRolloutUniqueLabelKey, Operator: metav1.LabelSelectorOpIn, Values: []string{ro.Status.StableRS},
		}}},
		Namespaces:  []string{ro.Namespace},
		TopologyKey: corev1.LabelHostname,
	}
	if aff == nil {
		aff = &corev1.Affinity{}
	}
	if aff.PodAntiAffinity == nil {
		aff.PodAntiAffinity = &corev1.PodAntiAffinity{}
	}
	paa := aff.PodAntiAffinity
	if p := aa.PreferredDuringSchedulingIgnoredDuringExecution; p != nil {
		paa.PreferredDuringSchedulingIgnoredDuringExecution = append(paa.PreferredDuringSchedulingIgnoredDuringExecution,
			corev1.WeightedPodAffinityTerm{Weight: p.Weight, PodAffinityTerm: term})
	} else {
		paa.RequiredDuringSchedulingIgnoredDuringExecution = append(paa.RequiredDuringSchedulingIgnoredDuringExecution, term)
	}
	return aff
}

// injectedStable returns the stable hash named by the injected anti-affinity term of aff, ""
// when there is none (Argo's HasInjectedAntiAffinityRule).
func injectedStable(aa *v1alpha1.AntiAffinity, aff *corev1.Affinity) string {
	if aa == nil || aff == nil || aff.PodAntiAffinity == nil {
		return ""
	}
	var terms []corev1.PodAffinityTerm
	if aa.PreferredDuringSchedulingIgnoredDuringExecution != nil {
		for _, w := range aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	} else {
		terms = aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	}
	for _, t := range terms {
		if t.LabelSelector == nil {
			continue
		}
		for _, r := range t.LabelSelector.MatchExpressions {
			if r.Key == v1alpha1.DefaultRolloutUniqueLabelKey && len(r.Values) > 0 {
				return r.Values[0]
			}
		}
	}
	return ""
}

// syncAntiAffinity re-targets the new ReplicaSet's injected anti-affinity term at the current
// stable ReplicaSet when the stable changed since it was created (Argo's
// IfInjectedAntiAffinityRuleNeedsUpdate in syncReplicaSetRevision).
func (rc *rolloutCtx) syncAntiAffinity(ctx context.Context) error {
	rs, st := rc.newRS, rc.ro.Status.StableRS
	if rs == nil || st == "" || st == rsHash(rs) {
		return nil
	}
	got := injectedStable(antiAffinityOf(rc.ro), rs.Spec.Template.Spec.Affinity)
	if got == "" || got == st {
		return nil
	}
	cp := rs.DeepCopy()
	cp.Spec.Template.Spec.Affinity = replicaSetAffinity(rc.ro, rsHash(rs))
	updated, err := rc.c.api.UpdateReplicaSet(ctx, cp)
	if err != nil {
		return fmt.Errorf("update anti-affinity of ReplicaSet %s: %w", rs.Name, err)
	}
	*rs = *updated
	return nil
}
