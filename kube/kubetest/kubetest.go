// Package kubetest serves kube.API from client-go's fake clientsets (their testing.Fake: the
// object tracker and the reactor chain), so tests of code written against kube.API keep their
// fake clientsets, their seeded objects, reactors and recorded actions. It is for tests only.
package kubetest

import (
	"context"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
)

// Resource is one kind of a fake clientset. Its calls record the actions the typed fake client
// records and answer what the typed fake client answers (a list is filtered by its label
// selector, as the typed fake client does).
type Resource struct {
	Fake *k8stesting.Fake
	GVR  schema.GroupVersionResource
	// Kind is the kind of one object (ReplicaSet), for list actions.
	Kind string
}

// New returns the Resource gvr of kind served by fake.
func New(fake *k8stesting.Fake, gvr schema.GroupVersionResource, kind string) Resource {
	return Resource{Fake: fake, GVR: gvr, Kind: kind}
}

// Get implements kube.API.
func (r Resource) Get(_ context.Context, ns, name string, out runtime.Object) error {
	obj, err := r.Fake.Invokes(k8stesting.NewGetActionWithOptions(r.GVR, ns, name, metav1.GetOptions{}), nil)
	return into(obj, err, out)
}

// List implements kube.API.
func (r Resource) List(_ context.Context, ns string, opts metav1.ListOptions, out runtime.Object) error {
	gvk := r.GVR.GroupVersion().WithKind(r.Kind)
	obj, err := r.Fake.Invokes(k8stesting.NewListActionWithOptions(r.GVR, gvk, ns, opts), nil)
	if err := into(obj, err, out); err != nil || obj == nil {
		return err
	}
	sel, _, _ := k8stesting.ExtractFromListOptions(opts)
	if sel == nil {
		return nil
	}
	items, err := meta.ExtractList(out)
	if err != nil {
		return err
	}
	kept := make([]runtime.Object, 0, len(items))
	for _, it := range items {
		m, err := meta.Accessor(it)
		if err != nil {
			return err
		}
		if sel.Matches(labels.Set(m.GetLabels())) {
			kept = append(kept, it)
		}
	}
	return meta.SetList(out, kept)
}

// Create implements kube.API.
func (r Resource) Create(_ context.Context, ns string, obj, out runtime.Object) error {
	got, err := r.Fake.Invokes(k8stesting.NewCreateActionWithOptions(r.GVR, ns, obj, metav1.CreateOptions{}), nil)
	return into(got, err, out)
}

// Patch implements kube.API.
func (r Resource) Patch(_ context.Context, ns, name string, pt types.PatchType, data []byte, out runtime.Object) error {
	got, err := r.Fake.Invokes(k8stesting.NewPatchActionWithOptions(r.GVR, ns, name, pt, data, metav1.PatchOptions{}), nil)
	if out == nil {
		return err
	}
	return into(got, err, out)
}

// Delete implements kube.API.
func (r Resource) Delete(_ context.Context, ns, name string, opts metav1.DeleteOptions) error {
	_, err := r.Fake.Invokes(k8stesting.NewDeleteActionWithOptions(r.GVR, ns, name, opts), nil)
	return err
}

// into copies the fake's answer into out (nothing when the reactor answered no object).
func into(obj runtime.Object, err error, out runtime.Object) error {
	if err != nil || obj == nil || reflect.ValueOf(obj).IsNil() {
		return err
	}
	src, dst := reflect.ValueOf(obj), reflect.ValueOf(out)
	if src.Type() != dst.Type() {
		return fmt.Errorf("kubetest: the fake answered a %T, the caller wants a %T", obj, out)
	}
	dst.Elem().Set(src.Elem())
	return nil
}
