package kube

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// API is the calls on one kind that nerve's tools make: Resource over the API server, or a test
// double (kube/kubetest serves it from client-go's fake clientsets).
type API interface {
	Get(ctx context.Context, ns, name string, out runtime.Object) error
	List(ctx context.Context, ns string, opts metav1.ListOptions, out runtime.Object) error
	Create(ctx context.Context, ns string, obj, out runtime.Object) error
	Patch(ctx context.Context, ns, name string, pt types.PatchType, data []byte, out runtime.Object) error
	Delete(ctx context.Context, ns, name string, opts metav1.DeleteOptions) error
}
