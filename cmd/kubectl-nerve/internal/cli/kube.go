package cli

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/nerve-rollouts/nerve/kube"
	"github.com/nerve-rollouts/nerve/view"
)

// Kube are the clients of the built-in kinds kubectl nerve reads, the access reviews it asks
// and the discovery it does: lean REST clients (kube.Resource) making the typed clientset's
// requests, without linking the typed clientset.
type Kube struct {
	ReplicaSets   kube.API
	Pods          kube.API
	Events        kube.API
	ConfigMaps    kube.API
	Namespaces    kube.API
	AccessReviews kube.API
	// Resources lists the resources the API server serves in a group-version (discovery's
	// ServerResourcesForGroupVersion).
	Resources func(ctx context.Context, groupVersion string) (*metav1.APIResourceList, error)
}

// discoveryTimeout is client-go's discovery client's timeout when the config has none.
const discoveryTimeout = 32 * time.Second

// newKube builds Kube for cfg. The groups share one rate limiter, as the typed clientset's do.
func newKube(cfg *rest.Config) (*Kube, error) {
	scheme, err := kube.NewScheme(corev1.AddToScheme, appsv1.AddToScheme, authv1.AddToScheme)
	if err != nil {
		return nil, err
	}
	b, err := kube.NewBuilder(cfg, scheme, "")
	if err != nil {
		return nil, err
	}
	limiter := b.Limiter()
	core, err := b.REST(corev1.SchemeGroupVersion, "/api", limiter)
	if err != nil {
		return nil, err
	}
	apps, err := b.REST(appsv1.SchemeGroupVersion, "/apis", limiter)
	if err != nil {
		return nil, err
	}
	auth, err := b.REST(authv1.SchemeGroupVersion, "/apis", limiter)
	if err != nil {
		return nil, err
	}
	return &Kube{
		ReplicaSets:   b.Resource(apps, "replicasets", true, true),
		Pods:          b.Resource(core, "pods", true, true),
		Events:        b.Resource(core, "events", true, true),
		ConfigMaps:    b.Resource(core, "configmaps", true, true),
		Namespaces:    b.Resource(core, "namespaces", false, true),
		AccessReviews: b.Resource(auth, "selfsubjectaccessreviews", false, true),
		Resources:     serverResources(core, cfg.Timeout),
	}, nil
}

// serverResources is discovery's ServerResourcesForGroupVersion: GET /api/v1 or
// /apis/<group>/<version> (a missing or forbidden core v1 is an empty list, as there).
func serverResources(rc rest.Interface, timeout time.Duration) func(context.Context, string) (*metav1.APIResourceList, error) {
	if timeout == 0 {
		timeout = discoveryTimeout
	}
	return func(ctx context.Context, gv string) (*metav1.APIResourceList, error) {
		path := "/apis/" + gv
		if gv == "v1" {
			path = "/api/v1"
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		out := &metav1.APIResourceList{GroupVersion: gv}
		err := rc.Get().AbsPath(path).Do(ctx).Into(out)
		if err != nil && gv == "v1" && (apierrors.IsNotFound(err) || apierrors.IsForbidden(err)) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// view is the part the read side uses.
func (k *Kube) view() *view.Kube {
	if k == nil {
		return nil
	}
	return &view.Kube{ReplicaSets: k.ReplicaSets, Pods: k.Pods}
}

// accessReviews is SelfSubjectAccessReviews as the dashboard asks them.
type accessReviews struct{ api kube.API }

// Create asks one review.
func (a accessReviews) Create(ctx context.Context, r *authv1.SelfSubjectAccessReview, _ metav1.CreateOptions) (*authv1.SelfSubjectAccessReview, error) {
	out := &authv1.SelfSubjectAccessReview{}
	if err := a.api.Create(ctx, "", r, out); err != nil {
		return nil, err
	}
	return out, nil
}

// mayI asks one review.
func (k *Kube) mayI(ctx context.Context, attrs authv1.ResourceAttributes) (*authv1.SelfSubjectAccessReview, error) {
	return accessReviews{k.AccessReviews}.Create(ctx, &authv1.SelfSubjectAccessReview{
		Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs}}, metav1.CreateOptions{})
}
