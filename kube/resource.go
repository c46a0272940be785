package kube

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// NewResource returns the Resource name served by rc (tests, and kinds Client does not hold).
func NewResource(rc rest.Interface, params runtime.ParameterCodec, name string, namespaced bool, fieldManager string) Resource {
	return Resource{rc: rc, params: params, name: name, namespaced: namespaced, fieldManager: fieldManager}
}

// Resource is one kind's REST endpoint. Its calls are the typed clientset's: the same paths,
// verbs, query options and bodies (protobuf for built-in kinds, JSON for custom resources).
type Resource struct {
	rc           rest.Interface
	params       runtime.ParameterCodec
	name         string
	namespaced   bool
	protobuf     bool
	fieldManager string
}

// Name is the plural resource name.
func (r Resource) Name() string { return r.name }

func (r Resource) req(req *rest.Request, ns string) *rest.Request {
	return req.UseProtobufAsDefaultIfPreferred(r.protobuf).NamespaceIfScoped(ns, r.namespaced).Resource(r.name)
}

// Get reads ns/name into out.
func (r Resource) Get(ctx context.Context, ns, name string, out runtime.Object) error {
	return r.req(r.rc.Get(), ns).Name(name).VersionedParams(&metav1.GetOptions{}, r.params).Do(ctx).Into(out)
}

// List lists ns ("" = all namespaces) into out.
func (r Resource) List(ctx context.Context, ns string, opts metav1.ListOptions, out runtime.Object) error {
	return r.req(r.rc.Get(), ns).VersionedParams(&opts, r.params).Do(ctx).Into(out)
}

// Watch watches ns ("" = all namespaces).
func (r Resource) Watch(ctx context.Context, ns string, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	return r.req(r.rc.Get(), ns).VersionedParams(&opts, r.params).Watch(ctx)
}

// Create creates obj in ns and decodes the stored object into out.
func (r Resource) Create(ctx context.Context, ns string, obj, out runtime.Object) error {
	return r.req(r.rc.Post(), ns).VersionedParams(&metav1.CreateOptions{FieldManager: r.fieldManager}, r.params).
		Body(obj).Do(ctx).Into(out)
}

// Update replaces ns/name (or its subresource when not empty) with obj and decodes the result into out.
func (r Resource) Update(ctx context.Context, ns, name, subresource string, obj, out runtime.Object) error {
	req := r.req(r.rc.Put(), ns).Name(name)
	if subresource != "" {
		req = req.SubResource(subresource)
	}
	return req.VersionedParams(&metav1.UpdateOptions{FieldManager: r.fieldManager}, r.params).Body(obj).Do(ctx).Into(out)
}

// Patch patches ns/name; out (nil: the result is dropped) receives the result.
func (r Resource) Patch(ctx context.Context, ns, name string, pt types.PatchType, data []byte, out runtime.Object) error {
	res := r.req(r.rc.Patch(pt), ns).Name(name).
		VersionedParams(&metav1.PatchOptions{FieldManager: r.fieldManager}, r.params).Body(data).Do(ctx)
	if out == nil {
		return res.Error()
	}
	return res.Into(out)
}

// PatchSubresource patches a subresource of ns/name (a Rollout's status); out receives the result.
func (r Resource) PatchSubresource(ctx context.Context, ns, name, subresource string, pt types.PatchType, data []byte, out runtime.Object) error {
	return r.req(r.rc.Patch(pt), ns).Name(name).SubResource(subresource).
		VersionedParams(&metav1.PatchOptions{FieldManager: r.fieldManager}, r.params).Body(data).Do(ctx).Into(out)
}

// Delete deletes ns/name.
func (r Resource) Delete(ctx context.Context, ns, name string, opts metav1.DeleteOptions) error {
	return r.req(r.rc.Delete(), ns).Name(name).Body(&opts).Do(ctx).Error()
}

// CreateSubresource posts obj to a subresource of ns/name (a pod's eviction).
func (r Resource) CreateSubresource(ctx context.Context, ns, name, subresource string, obj runtime.Object) error {
	return r.req(r.rc.Post(), ns).Name(name).SubResource(subresource).Body(obj).Do(ctx).Error()
}

// Selectors narrow a list-watch.
type Selectors struct {
	Label string
	Field string
}

// ListWatch lists and watches ns ("" = all namespaces) narrowed by sel; newList returns an
// empty list object of the kind.
func (r Resource) ListWatch(ns string, sel Selectors, newList func() runtime.Object) *cache.ListWatch {
	narrow := func(o metav1.ListOptions) metav1.ListOptions {
		if sel.Label != "" {
			o.LabelSelector = sel.Label
		}
		if sel.Field != "" {
			o.FieldSelector = sel.Field
		}
		return o
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			out := newList()
			return out, r.List(ctx, ns, narrow(o), out)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return r.Watch(ctx, ns, narrow(o))
		},
	}
}
