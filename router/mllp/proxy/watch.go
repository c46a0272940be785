package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/nerve-rollouts/nerve/kube"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

// WatchSource follows one MLLPRoute and the EndpointSlices and Services it
// names, applies every change, and reports this replica's status entry.
type WatchSource struct {
	// Slices and Services are the EndpointSlices and Services of the namespace (lean REST
	// clients: see NewEndpointClients); Dynamic reads the MLLPRoute and writes its status.
	Slices    kube.Resource
	Services  kube.Resource
	Dynamic   dynamic.Interface
	Namespace string
	Route     string
	Replica   string
	Map       AddressMap
	Logger    *slog.Logger
	// Now is the clock for heartbeats (default time.Now).
	Now func() time.Time
}

type watchState struct {
	route    cache.GenericLister
	slices   discoverylisters.EndpointSliceLister
	services corelisters.ServiceLister
	applied  *api.MLLPRoute
	problems []string
}

// Run watches until ctx ends, then removes the replica's status entry.
// applied is closed after the first successful apply.
func (w *WatchSource) Run(ctx context.Context, p *Proxy, applied chan<- struct{}) error {
	if w.Now == nil {
		w.Now = time.Now
	}
	trigger := make(chan struct{}, 1)
	st, err := w.startInformers(ctx, trigger)
	if err != nil {
		return err
	}
	tick := time.NewTicker(api.HeartbeatInterval)
	defer tick.Stop()
	first := true
	for {
		select {
		case <-ctx.Done():
			w.removeStatus(ctx)
			return nil
		case <-trigger:
			if changed := w.sync(st, p); changed {
				w.report(ctx, st, p)
			}
			if first && st.applied != nil {
				first = false
				close(applied)
			}
		case <-tick.C:
			w.report(ctx, st, p)
		}
	}
}

func (w *WatchSource) startInformers(ctx context.Context, trigger chan struct{}) (*watchState, error) {
	notify := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke(trigger) },
		UpdateFunc: func(any, any) { poke(trigger) },
		DeleteFunc: func(any) { poke(trigger) },
	}
	byNamespace := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	ri := cache.NewSharedIndexInformer(w.routeListWatch(), &unstructured.Unstructured{}, 0, byNamespace)
	si := cache.NewSharedIndexInformer(w.Slices.ListWatch(w.Namespace, kube.Selectors{},
		func() runtime.Object { return &discoveryv1.EndpointSliceList{} }), &discoveryv1.EndpointSlice{}, 0, byNamespace)
	vi := cache.NewSharedIndexInformer(w.Services.ListWatch(w.Namespace, kube.Selectors{},
		func() runtime.Object { return &corev1.ServiceList{} }), &corev1.Service{}, 0, byNamespace)
	for _, inf := range []cache.SharedIndexInformer{ri, si, vi} {
		if _, err := inf.AddEventHandler(notify); err != nil {
			return nil, fmt.Errorf("watch: %w", err)
		}
	}
	go ri.RunWithContext(ctx)
	go si.RunWithContext(ctx)
	go vi.RunWithContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), ri.HasSynced) {
		return nil, fmt.Errorf("watch %s/%s: route cache did not sync", w.Namespace, w.Route)
	}
	if !cache.WaitForCacheSync(ctx.Done(), si.HasSynced, vi.HasSynced) {
		return nil, fmt.Errorf("watch %s: endpoint cache did not sync", w.Namespace)
	}
	poke(trigger)
	return &watchState{route: cache.NewGenericLister(ri.GetIndexer(), api.GroupVersionResource().GroupResource()),
		slices: discoverylisters.NewEndpointSliceLister(si.GetIndexer()), services: corelisters.NewServiceLister(vi.GetIndexer())}, nil
}

// routeListWatch lists and watches the one MLLPRoute (a field selector on its name).
func (w *WatchSource) routeListWatch() *cache.ListWatch {
	ri := w.Dynamic.Resource(api.GroupVersionResource()).Namespace(w.Namespace)
	narrow := func(o metav1.ListOptions) metav1.ListOptions {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", w.Route).String()
		return o
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return ri.List(ctx, narrow(o))
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return ri.Watch(ctx, narrow(o))
		},
	}
}

func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// sync rebuilds the routing snapshot; it reports whether the generation changed.
func (w *WatchSource) sync(st *watchState, p *Proxy) bool {
	obj, err := st.route.ByNamespace(w.Namespace).Get(w.Route)
	if err != nil {
		st.problems = []string{"route not found"}
		return false
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return false
	}
	route, err := api.FromUnstructured(u)
	if err != nil {
		st.problems = []string{err.Error()}
		return false
	}
	if err := route.Spec.Validate(); err != nil {
		st.problems = []string{"spec invalid, previous route kept: " + err.Error()}
		return false
	}
	cfg := w.routeConfig(st, route)
	problems, err := p.Apply(cfg)
	if err != nil {
		st.problems = []string{err.Error()}
		return false
	}
	changed := st.applied == nil || st.applied.Generation != route.Generation
	st.applied, st.problems = route, problems
	return changed
}

// routeConfig resolves the route's Services to dialable endpoint addresses.
func (w *WatchSource) routeConfig(st *watchState, r *api.MLLPRoute) RouteConfig {
	s := r.Spec
	cfg := RouteConfig{Generation: r.Generation, Service: s.Service, Weight: s.Weight, MaxWeight: s.MaxWeight,
		StickyKey: s.StickyKey, Matches: s.Matches}
	cfg.Stable = w.endpoints(st, s.StableService, s.Port)
	if s.CanaryService != "" {
		cfg.Canary = w.endpoints(st, s.CanaryService, s.Port)
	}
	if s.Mirror != nil {
		cfg.Mirror = &MirrorConfig{Percentage: s.Mirror.Percentage,
			Targets: w.endpoints(st, s.Mirror.ShadowService, s.Port), Shadow: w.isShadow(st, s.Mirror.ShadowService)}
	}
	return cfg
}

func (w *WatchSource) isShadow(st *watchState, svc string) bool {
	s, err := st.services.Services(w.Namespace).Get(svc)
	return err == nil && s.Labels[api.ShadowLabel] == "true"
}

// endpoints lists ready endpoint addresses of svc's EndpointSlices on port.
func (w *WatchSource) endpoints(st *watchState, svc string, port intstr.IntOrString) []string {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc})
	list, err := st.slices.EndpointSlices(w.Namespace).List(sel)
	if err != nil {
		return nil
	}
	var out []string
	for _, es := range list {
		pn, ok := slicePort(es, port)
		if !ok {
			continue
		}
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, ip := range ep.Addresses {
				if to, ok := w.Map.Resolve(ip, pn); ok {
					out = append(out, to)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// slicePort finds the port number for a name or number in an EndpointSlice.
func slicePort(es *discoveryv1.EndpointSlice, port intstr.IntOrString) (int32, bool) {
	for _, p := range es.Ports {
		if p.Port == nil {
			continue
		}
		if port.Type == intstr.String && p.Name != nil && *p.Name == port.StrVal {
			return *p.Port, true
		}
		if port.Type == intstr.Int && *p.Port == port.IntVal {
			return *p.Port, true
		}
	}
	if len(es.Ports) == 1 && es.Ports[0].Port != nil && port.Type == intstr.String && port.StrVal == "" {
		return *es.Ports[0].Port, true
	}
	return 0, false
}

// report server-side-applies this replica's status entry (heartbeat).
func (w *WatchSource) report(ctx context.Context, st *watchState, p *Proxy) {
	entry := w.entry(st, p)
	obj, err := api.ReplicaApplyPatch(w.Namespace, w.Route, &entry)
	if err == nil {
		err = w.apply(ctx, obj)
	}
	if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		w.Logger.Warn("status heartbeat failed", "route", w.Route, "error", err.Error())
	}
}

func (w *WatchSource) entry(st *watchState, p *Proxy) api.ReplicaStatus {
	stable, canary, mirrored := p.Counts()
	e := api.ReplicaStatus{Name: w.Replica, HeartbeatTime: metav1.NewTime(w.Now()),
		StableMessages: stable, CanaryMessages: canary, MirrorMessages: mirrored}
	if rs := p.state.Load(); rs != nil && st.applied != nil {
		e.ObservedGeneration = st.applied.Generation
		e.Weight, e.MaxWeight = rs.cfg.Weight, maxWeight(rs.cfg.MaxWeight)
		e.StableEndpoints, e.CanaryEndpoints = int32(len(rs.cfg.Stable)), int32(len(rs.cfg.Canary))
	}
	problems := st.problems
	if len(problems) == 0 && p.state.Load() != nil && len(p.state.Load().cfg.Stable) == 0 {
		problems = []string{"stable service has no endpoints"}
	}
	e.Ready = st.applied != nil && len(problems) == 0
	if len(problems) > 0 {
		e.Message = fmt.Sprint(problems)
	}
	return e
}

func (w *WatchSource) apply(ctx context.Context, obj *unstructured.Unstructured) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := w.Dynamic.Resource(api.GroupVersionResource()).Namespace(w.Namespace).Apply(ctx, w.Route, obj,
		metav1.ApplyOptions{FieldManager: api.FieldManager(w.Replica), Force: true}, "status")
	return err
}

// removeStatus deletes this replica's entry on shutdown (best effort).
func (w *WatchSource) removeStatus(ctx context.Context) {
	obj, err := api.ReplicaApplyPatch(w.Namespace, w.Route, nil)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	if err := w.apply(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		w.Logger.Warn("could not remove the replica status entry", "error", err.Error())
	}
}
