package dashboard

import (
	"context"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"
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
	var informers []cache.SharedIndexInformer
	for _, ns := range namespaces {
		for _, gvr := range WatchedResources() {
			if _, err := w.Client.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
				if w.Skipped != nil {
					w.Skipped(gvr, ns, err)
				}
				continue
			}
			inf := w.informer(gvr, ns)
			if err := w.handle(inf, gvr.Resource, notify); err != nil {
				return err
			}
			informers = append(informers, inf)
		}
	}
	if len(informers) == 0 {
		return fmt.Errorf("no resource can be watched in namespaces %v", namespaces)
	}
	var wg sync.WaitGroup
	for _, inf := range informers {
		wg.Go(func() { inf.RunWithContext(ctx) })
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}

// informer is the metadata informer of gvr in ns (what client-go's metadatainformer builds,
// without its factory, which links the typed informers of every API group): no resync,
// indexed by namespace.
func (w *MetadataWatcher) informer(gvr schema.GroupVersionResource, ns string) cache.SharedIndexInformer {
	res := w.Client.Resource(gvr).Namespace(ns)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return res.List(ctx, o) },
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return res.Watch(ctx, o)
		},
	}
	return cache.NewSharedIndexInformer(cache.ToListWatcherWithWatchListSemantics(lw, w.Client), &metav1.PartialObjectMetadata{}, 0,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
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
