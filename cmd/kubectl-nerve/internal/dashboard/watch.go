package dashboard

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
)

// WatchedResources are the kinds whose changes refresh a page: the rollout, its tree, its
// events and the routing objects of every router nerve reads.
func WatchedResources() []schema.GroupVersionResource {
	argo := func(r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: r}
	}
	gw := func(r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: r}
	}
	return []schema.GroupVersionResource{
		argo("rollouts"), argo("analysisruns"),
		{Group: "apps", Version: "v1", Resource: "replicasets"},
		{Version: "v1", Resource: "pods"},
		{Version: "v1", Resource: "events"},
		{Group: "mllp.nerve.io", Version: "v1alpha1", Resource: "mllproutes"},
		gw("httproutes"), gw("grpcroutes"), gw("tcproutes"), gw("tlsroutes"),
	}
}

// MetadataWatcher watches the metadata (only) of WatchedResources in Namespaces (nil: every
// namespace) with informers: cheap, and every change of spec or status still arrives, as a new
// resourceVersion.
type MetadataWatcher struct {
	Client     metadata.Interface
	Namespaces []string
	// Skipped is called for a resource that cannot be listed (missing CRD, forbidden).
	Skipped func(gvr schema.GroupVersionResource, ns string, err error)
}

// Watch calls notify on every change until ctx ends. Resources that cannot be listed are
// skipped (Skipped says why); the informers relist and rewatch on their own.
func (w *MetadataWatcher) Watch(ctx context.Context, notify func(Change)) error {
	namespaces := w.Namespaces
	if namespaces == nil {
		namespaces = []string{metav1.NamespaceAll}
	}
	started := 0
	for _, ns := range namespaces {
		f := metadatainformer.NewFilteredSharedInformerFactory(w.Client, 0, ns, nil)
		for _, gvr := range WatchedResources() {
			if _, err := w.Client.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
				if w.Skipped != nil {
					w.Skipped(gvr, ns, err)
				}
				continue
			}
			if err := w.handle(f.ForResource(gvr).Informer(), gvr.Resource, notify); err != nil {
				return err
			}
			started++
		}
		f.Start(ctx.Done())
		defer f.Shutdown()
	}
	if started == 0 {
		return fmt.Errorf("no resource can be watched in namespaces %v", namespaces)
	}
	<-ctx.Done()
	return nil
}

func (w *MetadataWatcher) handle(inf cache.SharedIndexInformer, kind string, notify func(Change)) error {
	send := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if m, ok := obj.(metav1.Object); ok {
			notify(Change{Namespace: m.GetNamespace(), Kind: kind})
		}
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    send,
		UpdateFunc: func(_, obj any) { send(obj) },
		DeleteFunc: send,
	})
	if err != nil {
		return fmt.Errorf("watch %s: %w", kind, err)
	}
	return nil
}
