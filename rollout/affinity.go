package rollout

import (
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
