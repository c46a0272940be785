package kube

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// JitterFactor stretches the wait between acquire attempts (as client-go's leader election).
const JitterFactor = 1.2

// LeaseStore is what leader election needs of the API server: Client.Leases satisfies it.
type LeaseStore interface {
	Get(ctx context.Context, ns, name string, out runtime.Object) error
	Create(ctx context.Context, ns string, obj, out runtime.Object) error
	Update(ctx context.Context, ns, name, subresource string, obj, out runtime.Object) error
}

// LeaderElection holds a coordination.k8s.io/v1 Lease with the semantics of client-go's
// leader election over a Lease lock: a candidate takes the Lease when it is free or its
// holder has not renewed it for LeaseDuration (measured on the candidate's own clock from
// when it last saw the Lease change), the leader renews it every RetryPeriod and gives up
// leading when a renewal has not succeeded within RenewDeadline.
type LeaderElection struct {
	Leases    LeaseStore
	Namespace string
	Name      string
	Identity  string

	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	// ReleaseOnCancel frees the Lease when ctx ends, so that another candidate takes it at once.
	ReleaseOnCancel bool

	// OnStartedLeading runs (in its own goroutine) once the Lease is held; its ctx ends when
	// leading stops.
	OnStartedLeading func(ctx context.Context)
	// OnStoppedLeading runs when Run returns (lost Lease, or ctx ended).
	OnStoppedLeading func()
	// OnNewLeader (optional) runs when the observed holder changes, this candidate included.
	OnNewLeader func(identity string)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Validate checks the timings (LeaseDuration > RenewDeadline > JitterFactor*RetryPeriod, as
// client-go requires) and the required fields.
func (c *LeaderElection) Validate() error {
	switch {
	case c.Leases == nil || c.Name == "" || c.Identity == "":
		return errors.New("leader election: Leases, Name and Identity are required")
	case c.OnStartedLeading == nil || c.OnStoppedLeading == nil:
		return errors.New("leader election: OnStartedLeading and OnStoppedLeading are required")
	case c.LeaseDuration <= c.RenewDeadline:
		return fmt.Errorf("leader election: lease duration %s must be greater than renew deadline %s", c.LeaseDuration, c.RenewDeadline)
	case c.RenewDeadline <= time.Duration(JitterFactor*float64(c.RetryPeriod)):
		return fmt.Errorf("leader election: renew deadline %s must be greater than %.1f x retry period %s", c.RenewDeadline, JitterFactor, c.RetryPeriod)
	case c.RetryPeriod < time.Millisecond:
		return fmt.Errorf("leader election: retry period %s is too short", c.RetryPeriod)
	}
	return nil
}

// Run campaigns until the Lease is held, leads until the Lease is lost or ctx ends, then
// returns (after OnStoppedLeading).
func (c *LeaderElection) Run(ctx context.Context) error {
	if err := c.Validate(); err != nil {
		return err
	}
	e := &elector{cfg: c, now: c.Now}
	if e.now == nil {
		e.now = time.Now
	}
	defer c.OnStoppedLeading()
	if !e.acquire(ctx) {
		return nil
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go c.OnStartedLeading(lctx)
	e.renew(lctx)
	if c.ReleaseOnCancel {
		e.release(ctx)
	}
	return nil
}

// elector is one Run's state: the Lease as last seen and when it was seen.
type elector struct {
	cfg *LeaderElection
	now func() time.Time

	mu           sync.Mutex
	lease        *coordinationv1.Lease // last read or written (its resourceVersion guards updates)
	observed     coordinationv1.LeaseSpec
	observedTime time.Time
	reported     string
}

func (e *elector) logger(ctx context.Context) klog.Logger {
	return klog.FromContext(ctx).WithValues("lease", e.cfg.Namespace+"/"+e.cfg.Name)
}

func (e *elector) acquire(ctx context.Context) bool {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	ok := false
	e.logger(ctx).Info("attempting to acquire leader lease")
	wait.JitterUntilWithContext(actx, func(ctx context.Context) {
		ok = e.tryAcquireOrRenew(ctx)
		e.reportTransition()
		if ok {
			e.logger(ctx).Info("acquired leader lease")
			cancel()
		}
	}, e.cfg.RetryPeriod, JitterFactor, true)
	return ok
}

// renew renews every RetryPeriod until a renewal fails for RenewDeadline or ctx ends.
func (e *elector) renew(ctx context.Context) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wait.UntilWithContext(rctx, func(ctx context.Context) {
		err := wait.PollUntilContextTimeout(ctx, e.cfg.RetryPeriod, e.cfg.RenewDeadline, true,
			func(ctx context.Context) (bool, error) {
				if err := ctx.Err(); err != nil {
					return false, err
				}
				return e.tryAcquireOrRenew(ctx), nil
			})
		e.reportTransition()
		if err != nil {
			e.logger(ctx).Info("failed to renew leader lease", "err", err)
			cancel()
		}
	}, e.cfg.RetryPeriod)
}

// release frees the Lease if this candidate holds it (holder cleared, duration 1s).
func (e *elector) release(ctx context.Context) {
	if !e.isLeader() {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.RenewDeadline)
	defer cancel()
	now := metav1.NewMicroTime(e.now())
	e.mu.Lock()
	spec := coordinationv1.LeaseSpec{HolderIdentity: ptr.To(""), LeaseDurationSeconds: ptr.To[int32](1),
		AcquireTime: &now, RenewTime: &now, LeaseTransitions: e.observed.LeaseTransitions}
	e.mu.Unlock()
	if err := e.update(rctx, spec); err != nil {
		e.logger(ctx).Error(err, "failed to release leader lease")
	}
}

func holder(s coordinationv1.LeaseSpec) string { return ptr.Deref(s.HolderIdentity, "") }

func (e *elector) isLeader() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return holder(e.observed) == e.cfg.Identity
}

// valid reports whether the observed Lease is unexpired at now.
func (e *elector) valid(now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := time.Duration(ptr.Deref(e.observed.LeaseDurationSeconds, 0)) * time.Second
	return e.observedTime.Add(d).After(now)
}

func (e *elector) observe(l *coordinationv1.Lease, spec coordinationv1.LeaseSpec, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lease = l
	if !sameSpec(e.observed, spec) || e.observedTime.IsZero() {
		e.observed = spec
		e.observedTime = now
	}
}

func sameSpec(a, b coordinationv1.LeaseSpec) bool {
	return holder(a) == holder(b) && ptr.Deref(a.LeaseDurationSeconds, 0) == ptr.Deref(b.LeaseDurationSeconds, 0) &&
		ptr.Deref(a.LeaseTransitions, 0) == ptr.Deref(b.LeaseTransitions, 0) &&
		microEqual(a.AcquireTime, b.AcquireTime) && microEqual(a.RenewTime, b.RenewTime)
}

func microEqual(a, b *metav1.MicroTime) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(b)
}

// tryAcquireOrRenew takes or renews the Lease once; it reports whether this candidate holds it.
func (e *elector) tryAcquireOrRenew(ctx context.Context) bool {
	now := e.now()
	mnow := metav1.NewMicroTime(now)
	want := coordinationv1.LeaseSpec{HolderIdentity: ptr.To(e.cfg.Identity),
		LeaseDurationSeconds: ptr.To(int32(e.cfg.LeaseDuration / time.Second)), AcquireTime: &mnow, RenewTime: &mnow}
	// fast path: the leader renews from the Lease it last wrote
	if e.isLeader() && e.valid(now) {
		e.mu.Lock()
		want.AcquireTime, want.LeaseTransitions = e.observed.AcquireTime, e.observed.LeaseTransitions
		e.mu.Unlock()
		if err := e.update(ctx, want); err == nil {
			return true
		}
	}
	cur := &coordinationv1.Lease{}
	if err := e.cfg.Leases.Get(ctx, e.cfg.Namespace, e.cfg.Name, cur); err != nil {
		if !apierrors.IsNotFound(err) {
			e.logger(ctx).Error(err, "failed to read leader lease")
			return false
		}
		return e.create(ctx, want, now)
	}
	e.observe(cur, cur.Spec, now)
	if holder(cur.Spec) != "" && e.valid(now) && !e.isLeader() {
		return false
	}
	if e.isLeader() {
		want.AcquireTime, want.LeaseTransitions = cur.Spec.AcquireTime, cur.Spec.LeaseTransitions
	} else {
		want.LeaseTransitions = ptr.To(ptr.Deref(cur.Spec.LeaseTransitions, 0) + 1)
	}
	if err := e.update(ctx, want); err != nil {
		e.logger(ctx).Error(err, "failed to update leader lease")
		return false
	}
	return true
}

func (e *elector) create(ctx context.Context, spec coordinationv1.LeaseSpec, now time.Time) bool {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: e.cfg.Namespace, Name: e.cfg.Name}, Spec: spec}
	out := &coordinationv1.Lease{}
	if err := e.cfg.Leases.Create(ctx, e.cfg.Namespace, l, out); err != nil {
		e.logger(ctx).Error(err, "failed to create leader lease")
		return false
	}
	e.observe(out, spec, now)
	return true
}

// update writes spec onto the Lease last seen (its resourceVersion makes it conditional).
func (e *elector) update(ctx context.Context, spec coordinationv1.LeaseSpec) error {
	e.mu.Lock()
	if e.lease == nil {
		e.mu.Unlock()
		return errors.New("leader lease not read yet")
	}
	l := e.lease.DeepCopy()
	e.mu.Unlock()
	l.Spec = spec
	out := &coordinationv1.Lease{}
	if err := e.cfg.Leases.Update(ctx, l.Namespace, l.Name, "", l, out); err != nil {
		return err
	}
	e.observe(out, spec, e.now())
	return nil
}

func (e *elector) reportTransition() {
	e.mu.Lock()
	h := holder(e.observed)
	changed := h != e.reported
	e.reported = h
	e.mu.Unlock()
	if changed && e.cfg.OnNewLeader != nil {
		go e.cfg.OnNewLeader(h)
	}
}
