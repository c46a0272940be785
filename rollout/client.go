package rollout

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// ArgoClient reads and writes argoproj.io/v1alpha1 objects through a typed REST client.
type ArgoClient struct {
	rc     rest.Interface
	params runtime.ParameterCodec
}

// NewArgoClient builds an ArgoClient for the argoproj.io/v1alpha1 group.
func NewArgoClient(cfg *rest.Config) (*ArgoClient, error) {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c := rest.CopyConfig(cfg)
	gv := v1alpha1.GroupVersion()
	c.GroupVersion = &gv
	c.APIPath = "/apis"
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("argoproj.io REST client: %w", err)
	}
	return &ArgoClient{rc: rc, params: runtime.NewParameterCodec(scheme)}, nil
}

// ListWatch returns a ListWatch for resource in namespace ("" = all) filtered by labelSelector.
func (a *ArgoClient) ListWatch(resource, namespace, labelSelector string, newList func() runtime.Object) *cache.ListWatch {
	namespaced := resource != v1alpha1.ClusterAnalysisTemplateResource
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.LabelSelector = labelSelector
			out := newList()
			err := a.rc.Get().NamespaceIfScoped(namespace, namespaced).Resource(resource).
				VersionedParams(&opts, a.params).Do(ctx).Into(out)
			return out, err
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.LabelSelector = labelSelector
			opts.Watch = true
			return a.rc.Get().NamespaceIfScoped(namespace, namespaced).Resource(resource).
				VersionedParams(&opts, a.params).Watch(ctx)
		},
	}
}

// UpdateRolloutStatus writes the status subresource.
func (a *ArgoClient) UpdateRolloutStatus(ctx context.Context, ro *v1alpha1.Rollout) (*v1alpha1.Rollout, error) {
	out := &v1alpha1.Rollout{}
	err := a.rc.Put().Namespace(ro.Namespace).Resource(v1alpha1.RolloutResource).Name(ro.Name).
		SubResource("status").VersionedParams(&metav1.UpdateOptions{FieldManager: FieldManager}, a.params).
		Body(ro).Do(ctx).Into(out)
	return out, err
}

// PatchRollout applies a merge patch to a Rollout (metadata annotations) and returns the result.
func (a *ArgoClient) PatchRollout(ctx context.Context, ns, name string, patch []byte) (*v1alpha1.Rollout, error) {
	out := &v1alpha1.Rollout{}
	err := a.rc.Patch(types.MergePatchType).Namespace(ns).Resource(v1alpha1.RolloutResource).Name(name).
		VersionedParams(&metav1.PatchOptions{FieldManager: FieldManager}, a.params).Body(patch).Do(ctx).Into(out)
	return out, err
}

// CreateAnalysisRun creates a run.
func (a *ArgoClient) CreateAnalysisRun(ctx context.Context, run *v1alpha1.AnalysisRun) (*v1alpha1.AnalysisRun, error) {
	out := &v1alpha1.AnalysisRun{}
	err := a.rc.Post().Namespace(run.Namespace).Resource(v1alpha1.AnalysisRunResource).
		VersionedParams(&metav1.CreateOptions{FieldManager: FieldManager}, a.params).Body(run).Do(ctx).Into(out)
	return out, err
}

// GetAnalysisRun reads a run from the API server.
func (a *ArgoClient) GetAnalysisRun(ctx context.Context, ns, name string) (*v1alpha1.AnalysisRun, error) {
	out := &v1alpha1.AnalysisRun{}
	err := a.rc.Get().Namespace(ns).Resource(v1alpha1.AnalysisRunResource).Name(name).Do(ctx).Into(out)
	return out, err
}

// PatchAnalysisRun applies a merge patch to a run (spec.terminate).
func (a *ArgoClient) PatchAnalysisRun(ctx context.Context, ns, name string, patch []byte) error {
	return a.rc.Patch(types.MergePatchType).Namespace(ns).Resource(v1alpha1.AnalysisRunResource).Name(name).
		VersionedParams(&metav1.PatchOptions{FieldManager: FieldManager}, a.params).Body(patch).Do(ctx).Error()
}

// UpdateAnalysisRunStatus writes a run's status. Argo's AnalysisRun CRD has no status
// subresource (Argo's controller writes run status through the object itself), so nerve's CRD
// has none either and the status travels in an update of the whole run: that way a cluster whose
// AnalysisRuns are run by Argo's controller works with nerve's CRDs, and the reverse.
func (a *ArgoClient) UpdateAnalysisRunStatus(ctx context.Context, run *v1alpha1.AnalysisRun) (*v1alpha1.AnalysisRun, error) {
	out := &v1alpha1.AnalysisRun{}
	err := a.rc.Put().Namespace(run.Namespace).Resource(v1alpha1.AnalysisRunResource).Name(run.Name).
		VersionedParams(&metav1.UpdateOptions{FieldManager: FieldManager}, a.params).
		Body(run).Do(ctx).Into(out)
	return out, err
}

// DeleteAnalysisRun deletes a run.
func (a *ArgoClient) DeleteAnalysisRun(ctx context.Context, ns, name string) error {
	return a.rc.Delete().Namespace(ns).Resource(v1alpha1.AnalysisRunResource).Name(name).Do(ctx).Error()
}
