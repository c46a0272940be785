package rollout

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/rollout/analysis"
	"github.com/nerve-rollouts/nerve/rollout/kube"
)

// FieldManager is the field manager of every write the controller makes.
const FieldManager = "nerve-controller"

// PluginSource resolves traffic-router and metric-provider plugins by name. plugins/host.Host
// satisfies it.
type PluginSource interface {
	Has(kind plugins.Kind, name string) bool
	TrafficRouter(ctx context.Context, name string) (plugins.TrafficRouter, error)
	MetricProvider(ctx context.Context, name string) (plugins.MetricProvider, error)
}

// Config configures a Controller.
type Config struct {
	// Client is the API server (informers, events, and the default API).
	Client *kube.Client
	// API carries the syncs' writes and live reads (default: ClientAPI over Client).
	API     API
	Plugins PluginSource
	// Namespace limits the watch ("" = all namespaces).
	Namespace string
	// InstanceID is Argo's controller-instance-id: with an id only labelled objects are
	// managed, without one only unlabelled objects.
	InstanceID string
	Metrics    *Metrics
	// Resync is the informer resync period (default 5 minutes).
	Resync time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Controller runs Rollouts and AnalysisRuns.
type Controller struct {
	cfg      Config
	client   *kube.Client
	api      API
	plugins  PluginSource
	recorder EventRecorder
	metrics  *Metrics
	now      func() time.Time
	engine   *analysis.Engine

	informers    []cache.SharedIndexInformer
	rollouts     cache.SharedIndexInformer
	runs         cache.SharedIndexInformer
	templates    cache.SharedIndexInformer
	clusterTmpls cache.SharedIndexInformer
	rsLister     appslisters.ReplicaSetLister
	svcLister    corelisters.ServiceLister

	rolloutQueue workqueue.TypedRateLimitingInterface[cache.ObjectName]
	runQueue     workqueue.TypedRateLimitingInterface[cache.ObjectName]
	events       *kube.Recorder
}

// NewController wires informers, listers and queues; call Run to start it.
func NewController(ctx context.Context, cfg Config) *Controller {
	if cfg.Resync == 0 {
		cfg.Resync = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.API == nil {
		cfg.API = ClientAPI{C: cfg.Client}
	}
	c := &Controller{cfg: cfg, client: cfg.Client, api: cfg.API, plugins: cfg.Plugins, metrics: cfg.Metrics, now: cfg.Now}
	c.engine = &analysis.Engine{Providers: cfg.Plugins, Now: cfg.Now, Secrets: c.secretValue}
	c.setupEvents(ctx)
	c.setupInformers()
	c.rolloutQueue = newQueue("rollouts")
	c.runQueue = newQueue("analysisruns")
	return c
}

func newQueue(name string) workqueue.TypedRateLimitingInterface[cache.ObjectName] {
	return workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[cache.ObjectName](),
		workqueue.TypedRateLimitingQueueConfig[cache.ObjectName]{Name: name})
}

// EventRecorder records an event about an object (kube.Recorder; record.FakeRecorder in tests).
type EventRecorder interface {
	Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...any)
}

func (c *Controller) setupEvents(ctx context.Context) {
	scheme := runtime.NewScheme()
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	c.events = kube.NewRecorder(klog.FromContext(ctx), kube.EventSink{Events: c.client.Events}, scheme,
		corev1.EventSource{Component: "rollouts-controller"})
	c.recorder = c.events
}

// instanceSelector implements Argo's controller-instance-id label semantics.
func (c *Controller) instanceSelector() string {
	if c.cfg.InstanceID == "" {
		return "!" + v1alpha1.LabelKeyControllerInstanceID
	}
	return v1alpha1.LabelKeyControllerInstanceID + "=" + c.cfg.InstanceID
}

func (c *Controller) setupInformers() {
	ns, sel := c.cfg.Namespace, kube.Selectors{Label: c.instanceSelector()}
	cl := c.client
	c.rollouts = c.informer(cl.Rollouts.ListWatch(ns, sel,
		func() runtime.Object { return &v1alpha1.RolloutList{} }), &v1alpha1.Rollout{}, true)
	c.runs = c.informer(cl.AnalysisRuns.ListWatch(ns, sel,
		func() runtime.Object { return &v1alpha1.AnalysisRunList{} }), &v1alpha1.AnalysisRun{}, true)
	c.templates = c.informer(cl.AnalysisTemplates.ListWatch(ns, kube.Selectors{},
		func() runtime.Object { return &v1alpha1.AnalysisTemplateList{} }), &v1alpha1.AnalysisTemplate{}, true)
	c.clusterTmpls = c.informer(cl.ClusterAnalysisTemplates.ListWatch("", kube.Selectors{},
		func() runtime.Object { return &v1alpha1.ClusterAnalysisTemplateList{} }), &v1alpha1.ClusterAnalysisTemplate{}, false)
	// Only ReplicaSets labelled rollouts-pod-template-hash: every ReplicaSet a Rollout owns
	// carries it, and a Deployment's never does, so those stay out of the cache.
	rsInf := c.informer(cl.ReplicaSets.ListWatch(ns, kube.Selectors{Label: v1alpha1.DefaultRolloutUniqueLabelKey},
		func() runtime.Object { return &appsv1.ReplicaSetList{} }), &appsv1.ReplicaSet{}, true)
	svcInf := c.informer(cl.Services.ListWatch(ns, kube.Selectors{},
		func() runtime.Object { return &corev1.ServiceList{} }), &corev1.Service{}, true)
	c.metrics.watchCaches(objectCaches{rollouts: c.rollouts.GetStore(), runs: c.runs.GetStore(),
		templates: c.templates.GetStore(), clusterTemplates: c.clusterTmpls.GetStore()})
	c.rsLister = appslisters.NewReplicaSetLister(rsInf.GetIndexer())
	c.svcLister = corelisters.NewServiceLister(svcInf.GetIndexer())

	_, _ = c.rollouts.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { c.enqueue(c.rolloutQueue, o) },
		UpdateFunc: func(_, o any) { c.enqueue(c.rolloutQueue, o) },
		DeleteFunc: func(o any) { c.rolloutDeleted(o) },
	})
	_, _ = c.runs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { c.runChanged(o) },
		UpdateFunc: func(_, o any) { c.runChanged(o) },
		DeleteFunc: func(o any) { c.enqueueOwner(o) },
	})
	_, _ = rsInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueOwner,
		UpdateFunc: func(_, o any) { c.enqueueOwner(o) },
		DeleteFunc: c.enqueueOwner,
	})
	_, _ = c.templates.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { c.enqueueNamespace(o) },
		UpdateFunc: func(_, o any) { c.enqueueNamespace(o) },
	})
}

func (c *Controller) enqueue(q workqueue.TypedRateLimitingInterface[cache.ObjectName], obj any) {
	ref, err := cache.ObjectToName(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	q.Add(ref)
}

func (c *Controller) runChanged(obj any) {
	c.enqueue(c.runQueue, obj)
	c.enqueueOwner(obj)
}

// enqueueOwner enqueues the Rollout that owns a ReplicaSet or AnalysisRun.
func (c *Controller) enqueueOwner(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	o, ok := obj.(ownerObject)
	if !ok {
		return
	}
	for _, ref := range o.GetOwnerReferences() {
		if ref.Kind == v1alpha1.RolloutKind && ref.Controller != nil && *ref.Controller {
			c.rolloutQueue.Add(cache.ObjectName{Namespace: o.GetNamespace(), Name: ref.Name})
		}
	}
}

// enqueueNamespace enqueues every Rollout in the object's namespace (template changes).
func (c *Controller) enqueueNamespace(obj any) {
	o, ok := obj.(ownerObject)
	if !ok {
		return
	}
	items, err := c.rollouts.GetIndexer().ByIndex(cache.NamespaceIndex, o.GetNamespace())
	if err != nil {
		return
	}
	for _, it := range items {
		c.enqueue(c.rolloutQueue, it)
	}
}

func (c *Controller) rolloutDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if ro, ok := obj.(*v1alpha1.Rollout); ok {
		c.metrics.forgetRollout(ro.Namespace, ro.Name)
	}
}

// informer builds a shared informer (namespace-indexed when namespaced) whose cache holds
// objects without managedFields: see cacheTransform.
func (c *Controller) informer(lw cache.ListerWatcher, example runtime.Object, namespaced bool) cache.SharedIndexInformer {
	idx := cache.Indexers{}
	if namespaced {
		idx[cache.NamespaceIndex] = cache.MetaNamespaceIndexFunc
	}
	inf := cache.NewSharedIndexInformer(lw, example, c.cfg.Resync, idx)
	_ = inf.SetTransform(cacheTransform) // cannot fail: the informer has not started
	c.informers = append(c.informers, inf)
	return inf
}

// cacheTransform drops managedFields from every object before it is cached: the loop never
// reads them, and they are often the largest part of an object. Updates sent from cached
// copies carry no managedFields, which the API server reads as "keep them as they are".
func cacheTransform(obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok {
		o.SetManagedFields(nil)
	}
	return obj, nil
}

// Run starts the informers and workers and blocks until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrash()
	defer c.rolloutQueue.ShutDown()
	defer c.runQueue.ShutDown()
	go c.events.Run(ctx)
	logger := klog.FromContext(ctx)
	synced := make([]cache.InformerSynced, 0, len(c.informers))
	for _, inf := range c.informers {
		go inf.RunWithContext(ctx)
		synced = append(synced, inf.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return fmt.Errorf("failed to wait for caches to sync")
	}
	logger.Info("caches synced; starting workers", "workers", workers)
	for range workers {
		go wait.UntilWithContext(ctx, func(ctx context.Context) { c.work(ctx, c.rolloutQueue, c.syncRollout) }, time.Second)
		go wait.UntilWithContext(ctx, func(ctx context.Context) { c.work(ctx, c.runQueue, c.syncAnalysisRun) }, time.Second)
	}
	<-ctx.Done()
	return nil
}

// syncFunc reconciles one object; a positive duration asks for a delayed requeue.
type syncFunc func(ctx context.Context, ref cache.ObjectName) (time.Duration, error)

func (c *Controller) work(ctx context.Context, q workqueue.TypedRateLimitingInterface[cache.ObjectName], sync syncFunc) {
	for {
		ref, shutdown := q.Get()
		if shutdown {
			return
		}
		func() {
			defer q.Done(ref)
			after, err := sync(klog.NewContext(ctx, klog.LoggerWithValues(klog.FromContext(ctx), "objectRef", ref)), ref)
			if err != nil {
				if apierrors.IsConflict(err) {
					// the cache was behind our own last write; the next sync sees it
					klog.FromContext(ctx).V(4).Info("conflict; requeued", "objectRef", ref)
				} else {
					utilruntime.HandleErrorWithContext(ctx, err, "sync failed", "objectRef", ref)
				}
				q.AddRateLimited(ref)
				return
			}
			q.Forget(ref)
			if after > 0 {
				q.AddAfter(ref, after)
			}
		}()
	}
}

// Informers exposes listers for tests in this package's module.
func (c *Controller) replicaSetsOf(ro *v1alpha1.Rollout) ([]*appsv1.ReplicaSet, error) {
	all, err := c.rsLister.ReplicaSets(ro.Namespace).List(everything())
	if err != nil {
		return nil, err
	}
	var out []*appsv1.ReplicaSet
	for _, rs := range all {
		for _, ref := range rs.OwnerReferences {
			if ref.UID == ro.UID && ref.Controller != nil && *ref.Controller {
				out = append(out, rs)
			}
		}
	}
	return out, nil
}

// ResyncAll enqueues every Rollout (after a plugin registry change).
func (c *Controller) ResyncAll() {
	for _, obj := range c.rollouts.GetIndexer().List() {
		c.enqueue(c.rolloutQueue, obj)
	}
}
