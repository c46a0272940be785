// Package launcher is the stand-in kubelet for kwok's fake nodes, used by
// the e2e tests (e2e/argo) and the demo (hack/demo): kwok marks pods Ready
// without running anything, so the launcher watches the Ready pods matching
// a selector and runs one real MLLP backend per pod on 127.0.0.1 through a
// Starter (ExecStarter runs a listener process; tests start in-process
// backends), configured from the pod template's env (NERVE_DEMO_ACK_DELAY_MS,
// NERVE_DEMO_ERROR_RATE, NERVE_DEMO_VERSION). It keeps an address map file
// (pod IP:port -> 127.0.0.1:port) that nerve-mllp-proxy reads, so the proxy
// reaches the pods it finds through the Services' EndpointSlices without
// ever dialling a 10.x address; with a PortPlan the map is the whole plan,
// written once. When a pod goes (deleted, terminating or not Ready), its
// backend keeps serving for a drain delay, so the proxy can finish and move
// its connections, and is then stopped.
//
// The package carries no e2e build tag, so the demo program can import it.
package launcher

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Pod-template env the listeners take their behaviour from.
const (
	EnvAckDelayMS = "NERVE_DEMO_ACK_DELAY_MS"
	EnvErrorRate  = "NERVE_DEMO_ERROR_RATE"
	EnvVersion    = "NERVE_DEMO_VERSION"
	// HashLabel is the pod-template hash label the rollout controller sets.
	HashLabel = "rollouts-pod-template-hash"
)

// Config tells the launcher what to watch and where to write.
type Config struct {
	Namespace string
	// Selector is a label selector for the Rollout's pods (e.g. app=mllp-listener).
	Selector string
	// Port is the container port the Services target (the pod's MLLP port).
	Port int32
	// AddressMap is the file the proxy reads.
	AddressMap string
	// DrainDelay is how long a listener keeps serving after its pod went.
	DrainDelay time.Duration
	// Plan, when set, fixes every pod IP's port and the address map is the
	// whole plan, written once at start; otherwise listeners take any free
	// port and the address map (JSON) is rewritten as pods come and go.
	Plan *PortPlan
}

// Spec is what a listener process needs to start.
type Spec struct {
	Pod, Hash, Version string
	// Listen is the address to listen on (default 127.0.0.1:0).
	Listen     string
	AckDelayMS int
	ErrorRate  float64
}

// Starter starts and stops listener processes (a real one execs the
// listener binary; tests use an in-process one).
type Starter interface {
	// Start runs a listener for spec and returns its 127.0.0.1 address.
	Start(ctx context.Context, spec Spec) (Handle, error)
}

// Handle is a running listener.
type Handle interface {
	Addr() string
	Stop() error
}

type backend struct {
	podAddr string
	h       Handle
	gone    time.Time // when the pod went; zero while it is Ready
}

// Launcher runs the listeners.
type Launcher struct {
	cfg     Config
	client  kubernetes.Interface
	starter Starter
	logf    func(format string, args ...any)

	mu       sync.Mutex
	backends map[string]*backend // by pod name
}

// New returns a launcher; logf receives progress lines (no PHI).
func New(cfg Config, client kubernetes.Interface, starter Starter, logf func(string, ...any)) *Launcher {
	if cfg.DrainDelay <= 0 {
		cfg.DrainDelay = 3 * time.Second
	}
	return &Launcher{cfg: cfg, client: client, starter: starter, logf: logf, backends: map[string]*backend{}}
}

// Run watches pods until ctx ends, then stops every listener.
func (l *Launcher) Run(ctx context.Context) error {
	defer l.stopAll()
	if l.cfg.Plan != nil {
		if err := l.cfg.Plan.WriteAddressMap(l.cfg.AddressMap); err != nil {
			return err
		}
	}
	f := informers.NewSharedInformerFactoryWithOptions(l.client, 0,
		informers.WithNamespace(l.cfg.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = l.cfg.Selector }))
	inf := f.Core().V1().Pods()
	kick := make(chan struct{}, 1)
	poke := func(any) {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: poke, DeleteFunc: poke, UpdateFunc: func(_, n any) { poke(n) },
	}); err != nil {
		return err
	}
	f.Start(ctx.Done())
	defer f.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		return fmt.Errorf("pod informer did not sync: %w", ctx.Err())
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		pods, err := inf.Lister().Pods(l.cfg.Namespace).List(labels.Everything())
		if err != nil {
			return err
		}
		if err := l.Reconcile(ctx, pods, time.Now()); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		case <-tick.C:
		}
	}
}

// Reconcile starts listeners for Ready pods, marks the others gone and stops
// those gone longer than the drain delay; it rewrites the address map when
// the set changed.
func (l *Launcher) Reconcile(ctx context.Context, pods []*corev1.Pod, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	changed := false
	ready := map[string]bool{}
	for _, p := range pods {
		if !podServing(p) {
			continue
		}
		ready[p.Name] = true
		if b, ok := l.backends[p.Name]; ok {
			b.gone = time.Time{}
			continue
		}
		spec := SpecFor(p)
		if l.cfg.Plan != nil {
			port, err := l.cfg.Plan.Port(p.Status.PodIP)
			if err != nil {
				l.logf("pod %s: %v", p.Name, err)
				continue
			}
			spec.Listen = fmt.Sprintf("127.0.0.1:%d", port)
		}
		h, err := l.starter.Start(ctx, spec)
		if err != nil {
			l.logf("start listener for pod %s: %v", p.Name, err)
			continue
		}
		podAddr := fmt.Sprintf("%s:%d", p.Status.PodIP, l.cfg.Port)
		l.backends[p.Name] = &backend{podAddr: podAddr, h: h}
		l.logf("pod %s (%s, %s) Ready: listener on %s for %s (ack delay %dms, error rate %g)",
			p.Name, spec.Hash, spec.Version, h.Addr(), podAddr, spec.AckDelayMS, spec.ErrorRate)
		changed = true
	}
	for name, b := range l.backends {
		if ready[name] {
			continue
		}
		if b.gone.IsZero() {
			b.gone = now
			l.logf("pod %s gone: listener drains for %s", name, l.cfg.DrainDelay)
			continue
		}
		if now.Sub(b.gone) >= l.cfg.DrainDelay {
			if err := b.h.Stop(); err != nil {
				l.logf("stop listener for pod %s: %v", name, err)
			}
			delete(l.backends, name)
			l.logf("pod %s: listener stopped", name)
			changed = true
		}
	}
	if !changed || l.cfg.Plan != nil {
		return nil
	}
	return WriteAddressMap(l.cfg.AddressMap, l.addressMap())
}

// addressMap is pod IP:port → 127.0.0.1:port of every running listener
// (draining ones included: the proxy may still finish a message there).
func (l *Launcher) addressMap() map[string]string {
	m := make(map[string]string, len(l.backends))
	for _, b := range l.backends {
		m[b.podAddr] = b.h.Addr()
	}
	return m
}

// Backends returns the pod names with a running listener, sorted.
func (l *Launcher) Backends() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.backends))
	for n := range l.backends {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (l *Launcher) stopAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, b := range l.backends {
		if err := b.h.Stop(); err != nil {
			l.logf("stop listener for pod %s: %v", name, err)
		}
		delete(l.backends, name)
	}
	if l.cfg.Plan != nil {
		return
	}
	if err := WriteAddressMap(l.cfg.AddressMap, map[string]string{}); err != nil {
		l.logf("address map: %v", err)
	}
}

// podServing is true for a Ready pod with an IP that is not terminating.
func podServing(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.PodIP == "" {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// SpecFor reads a pod's listener behaviour from its first container's env.
func SpecFor(p *corev1.Pod) Spec {
	s := Spec{Pod: p.Name, Hash: p.Labels[HashLabel]}
	if len(p.Spec.Containers) == 0 {
		return s
	}
	for _, e := range p.Spec.Containers[0].Env {
		switch e.Name {
		case EnvAckDelayMS:
			s.AckDelayMS, _ = strconv.Atoi(e.Value)
		case EnvErrorRate:
			s.ErrorRate, _ = strconv.ParseFloat(e.Value, 64)
		case EnvVersion:
			s.Version = e.Value
		}
	}
	return s
}
