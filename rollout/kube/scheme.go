package kube

import (
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/kube"
)

// NewScheme returns a scheme with only the API groups nerve uses: core/v1, apps/v1,
// coordination.k8s.io/v1, policy/v1 and argoproj.io/v1alpha1 (plus the meta/v1 options every
// group-version serves).
func NewScheme() (*runtime.Scheme, error) {
	return kube.NewScheme(corev1.AddToScheme, appsv1.AddToScheme, coordinationv1.AddToScheme, policyv1.AddToScheme,
		v1alpha1.AddToScheme)
}
