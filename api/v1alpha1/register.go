package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group is the API group of every kind in this package.
const Group = "argoproj.io"

// Version is the API version of every kind in this package.
const Version = "v1alpha1"

// GroupVersion returns argoproj.io/v1alpha1.
func GroupVersion() schema.GroupVersion { return schema.GroupVersion{Group: Group, Version: Version} }

// Resource names (plural, lower case) as served by the CRDs.
const (
	RolloutResource                 = "rollouts"
	AnalysisTemplateResource        = "analysistemplates"
	ClusterAnalysisTemplateResource = "clusteranalysistemplates"
	AnalysisRunResource             = "analysisruns"
)

// Kind names.
const (
	RolloutKind                 = "Rollout"
	AnalysisTemplateKind        = "AnalysisTemplate"
	ClusterAnalysisTemplateKind = "ClusterAnalysisTemplate"
	AnalysisRunKind             = "AnalysisRun"
)

// GroupVersionResource returns the GVR of a resource in this group/version.
func GroupVersionResource(resource string) schema.GroupVersionResource {
	return GroupVersion().WithResource(resource)
}

// GroupVersionKind returns the GVK of a kind in this group/version.
func GroupVersionKind(kind string) schema.GroupVersionKind {
	return GroupVersion().WithKind(kind)
}

// AddToScheme registers the kinds of this package with a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion(),
		&Rollout{}, &RolloutList{},
		&AnalysisTemplate{}, &AnalysisTemplateList{},
		&ClusterAnalysisTemplate{}, &ClusterAnalysisTemplateList{},
		&AnalysisRun{}, &AnalysisRunList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion())
	return nil
}
