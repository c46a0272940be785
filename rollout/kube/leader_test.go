package kube

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

// memLeases is an API server holding Leases: updates carrying an old resourceVersion conflict.
type memLeases struct {
	mu     sync.Mutex
	leases map[string]*coordinationv1.Lease
	rv     int
}

func leaseGR() schema.GroupResource {
	return schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}
}

func (m *memLeases) Get(_ context.Context, ns, name string, out runtime.Object) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.leases[ns+"/"+name]
	if !ok {
		return apierrors.NewNotFound(leaseGR(), name)
	}
	l.DeepCopyInto(out.(*coordinationv1.Lease))
	return nil
}

func (m *memLeases) Create(_ context.Context, ns string, obj, out runtime.Object) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := obj.(*coordinationv1.Lease).DeepCopy()
	if _, ok := m.leases[ns+"/"+l.Name]; ok {
		return apierrors.NewAlreadyExists(leaseGR(), l.Name)
	}
	m.rv++
	l.ResourceVersion = strconv.Itoa(m.rv)
	m.leases[ns+"/"+l.Name] = l
	l.DeepCopyInto(out.(*coordinationv1.Lease))
	return nil
}

func (m *memLeases) Update(_ context.Context, ns, name, _ string, obj, out runtime.Object) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := obj.(*coordinationv1.Lease).DeepCopy()
	cur, ok := m.leases[ns+"/"+name]
	if !ok {
		return apierrors.NewNotFound(leaseGR(), name)
	}
	if l.ResourceVersion != cur.ResourceVersion {
		return apierrors.NewConflict(leaseGR(), name, nil)
	}
	m.rv++
	l.ResourceVersion = strconv.Itoa(m.rv)
	m.leases[ns+"/"+name] = l
	l.DeepCopyInto(out.(*coordinationv1.Lease))
	return nil
}

func (m *memLeases) holder() (string, int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.leases["ns/lock"]
	if !ok {
		return "", -1
	}
	return ptr.Deref(l.Spec.HolderIdentity, ""), ptr.Deref(l.Spec.LeaseTransitions, 0)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func candidate(store LeaseStore, id string, clk *clock) *elector {
	cfg := &LeaderElection{Leases: store, Namespace: "ns", Name: "lock", Identity: id,
		LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second, Now: clk.now}
	return &elector{cfg: cfg, now: clk.now}
}

// The election step by step: first come takes the Lease, the other waits until the holder has
// not renewed for the lease duration (on the waiter's clock), then takes over; a leader that
// lost the Lease cannot renew; a released Lease is free at once.
func TestLeaderElectionTakeoverAndRelease(t *testing.T) {
	ctx := context.Background()
	store := &memLeases{leases: map[string]*coordinationv1.Lease{}}
	clk := &clock{t: time.Unix(1000, 0)}
	a, b := candidate(store, "a", clk), candidate(store, "b", clk)

	if !a.tryAcquireOrRenew(ctx) {
		t.Fatal("a did not create the Lease")
	}
	if h, tr := store.holder(); h != "a" || tr != 0 {
		t.Fatalf("holder %q transitions %d; want a, 0", h, tr)
	}
	if b.tryAcquireOrRenew(ctx) {
		t.Fatal("b took a Lease a holds")
	}
	clk.add(10 * time.Second)
	if !a.tryAcquireOrRenew(ctx) {
		t.Fatal("a could not renew")
	}
	clk.add(10 * time.Second) // 20s after b first saw the Lease, but a renewed 10s ago
	if b.tryAcquireOrRenew(ctx) {
		t.Fatal("b took a Lease renewed within the lease duration")
	}
	clk.add(16 * time.Second) // a stopped renewing
	if !b.tryAcquireOrRenew(ctx) {
		t.Fatal("b did not take an expired Lease")
	}
	if h, tr := store.holder(); h != "b" || tr != 1 {
		t.Fatalf("holder %q transitions %d; want b, 1", h, tr)
	}
	if a.tryAcquireOrRenew(ctx) {
		t.Fatal("a renewed a Lease b took over")
	}
	if h, _ := store.holder(); h != "b" {
		t.Fatalf("holder %q after a's failed renewal; want b", h)
	}
	b.release(ctx)
	if h, _ := store.holder(); h != "" {
		t.Fatalf("holder %q after release; want none", h)
	}
	if !a.tryAcquireOrRenew(ctx) {
		t.Fatal("a did not take a released Lease at once")
	}
	if h, tr := store.holder(); h != "a" || tr != 2 {
		t.Fatalf("holder %q transitions %d; want a, 2", h, tr)
	}
}

func TestLeaderElectionValidate(t *testing.T) {
	ok := LeaderElection{Leases: &memLeases{}, Name: "lock", Identity: "a", OnStartedLeading: func(context.Context) {},
		OnStoppedLeading: func() {}, LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for name, change := range map[string]func(*LeaderElection){
		"renew >= lease":         func(c *LeaderElection) { c.RenewDeadline = c.LeaseDuration },
		"retry*1.2 >= renew":     func(c *LeaderElection) { c.RetryPeriod = 9 * time.Second },
		"no identity":            func(c *LeaderElection) { c.Identity = "" },
		"no OnStoppedLeading":    func(c *LeaderElection) { c.OnStoppedLeading = nil },
		"retry period too short": func(c *LeaderElection) { c.RetryPeriod = 0 },
	} {
		c := ok
		change(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// Run on the real clock with short timings: one of two candidates leads; when its API server
// calls fail it stops leading within the renew deadline and the other takes over; cancelling
// the leader releases the Lease.
func TestLeaderElectionRun(t *testing.T) {
	store := &memLeases{leases: map[string]*coordinationv1.Lease{}}
	bad := &flaky{memLeases: store}
	type event struct {
		id      string
		leading bool
	}
	events := make(chan event, 10)
	run := func(ctx context.Context, s LeaseStore, id string) chan struct{} {
		done := make(chan struct{})
		le := &LeaderElection{Leases: s, Namespace: "ns", Name: "lock", Identity: id, ReleaseOnCancel: true,
			LeaseDuration: time.Second, RenewDeadline: 500 * time.Millisecond, RetryPeriod: 100 * time.Millisecond,
			OnStartedLeading: func(context.Context) { events <- event{id, true} },
			OnStoppedLeading: func() { events <- event{id, false} }}
		go func() {
			defer close(done)
			if err := le.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
		return done
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	doneA := run(ctx, bad, "a")
	if ev := <-events; ev != (event{"a", true}) {
		t.Fatalf("first event %+v; want a leading", ev)
	}
	ctxB, cancelB := context.WithCancel(ctx)
	doneB := run(ctxB, store, "b")
	bad.setFailing(true) // a can no longer renew
	if ev := <-events; ev != (event{"a", false}) {
		t.Fatalf("event %+v; want a stopped", ev)
	}
	<-doneA
	if ev := <-events; ev != (event{"b", true}) {
		t.Fatalf("event %+v; want b leading", ev)
	}
	cancelB()
	if ev := <-events; ev != (event{"b", false}) {
		t.Fatalf("event %+v; want b stopped", ev)
	}
	<-doneB
	if h, _ := store.holder(); h != "" {
		t.Fatalf("holder %q after b was cancelled; want the Lease released", h)
	}
}

// flaky fails every call once failing is set.
type flaky struct {
	*memLeases
	mu      sync.Mutex
	failing bool
}

func (f *flaky) setFailing(v bool) { f.mu.Lock(); f.failing = v; f.mu.Unlock() }
func (f *flaky) down() bool        { f.mu.Lock(); defer f.mu.Unlock(); return f.failing }

func (f *flaky) Get(ctx context.Context, ns, name string, out runtime.Object) error {
	if f.down() {
		return apierrors.NewServiceUnavailable("down")
	}
	return f.memLeases.Get(ctx, ns, name, out)
}

func (f *flaky) Create(ctx context.Context, ns string, obj, out runtime.Object) error {
	if f.down() {
		return apierrors.NewServiceUnavailable("down")
	}
	return f.memLeases.Create(ctx, ns, obj, out)
}

func (f *flaky) Update(ctx context.Context, ns, name, sub string, obj, out runtime.Object) error {
	if f.down() {
		return apierrors.NewServiceUnavailable("down")
	}
	return f.memLeases.Update(ctx, ns, name, sub, obj, out)
}
