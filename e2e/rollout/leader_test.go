//go:build e2e

package rollout

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// lease reads the controller's leader-election Lease.
func (s *suite) lease(ctx context.Context) (*coordinationv1.Lease, error) {
	return s.env.Client.CoordinationV1().Leases(s.ns).Get(ctx, "nerve-controller-lock", metav1.GetOptions{})
}

// TestLeaderElectionHandsOver runs two controllers on one namespace: the second stands by while
// the first holds the Lease and reconciles; SIGTERM makes the first release the Lease, and the
// second takes it (one more leader transition) and finishes the paused update.
func TestLeaderElectionHandsOver(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	first := s.ctrl
	var holder string
	framework.Eventually(t, 20*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		l, err := s.lease(ctx)
		if err != nil {
			return false, err
		}
		holder = ptr.Deref(l.Spec.HolderIdentity, "")
		return holder != "", nil
	}, "the first controller holds the Lease")
	l, err := s.lease(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	transitions := ptr.Deref(l.Spec.LeaseTransitions, 0)

	s.startController() // the standby
	standby := s.ctrl
	s.apply(rolloutYAML("le", 2, "      steps:\n      - setWeight: 50\n      - pause: {}\n"))
	s.waitRollout("le", 60*time.Second, "initial deploy healthy", healthyAt(nil))
	s.setImage("le", "v2")
	s.waitRollout("le", 60*time.Second, "paused at the canary step", phaseIs(v1alpha1.RolloutPhasePaused))
	if l, err := s.lease(t.Context()); err != nil || ptr.Deref(l.Spec.HolderIdentity, "") != holder {
		t.Fatalf("Lease holder changed while the first controller ran: %v %v", l, err)
	}
	if out := standby.Output(); strings.Contains(out, "acquired leader lease") || strings.Contains(out, "caches synced") {
		t.Fatalf("the standby leads while the first holds the Lease:\n%s", out)
	}

	if err := first.Stop(10 * time.Second); err != nil {
		t.Fatalf("first controller exit: %v", err)
	}
	if out := first.Output(); strings.Contains(out, "failed to release") {
		t.Errorf("the first controller did not release the Lease:\n%s", out)
	}
	framework.Eventually(t, 20*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		l, err := s.lease(ctx)
		if err != nil {
			return false, err
		}
		h := ptr.Deref(l.Spec.HolderIdentity, "")
		if h == "" || h == holder {
			return false, fmt.Errorf("holder %q", h)
		}
		if got := ptr.Deref(l.Spec.LeaseTransitions, 0); got != transitions+1 {
			return false, fmt.Errorf("leaseTransitions %d, want %d", got, transitions+1)
		}
		return true, nil
	}, "the standby holds the Lease")
	s.promote("le")
	s.waitRollout("le", 60*time.Second, "v2 healthy under the new leader", healthyAt(nil))
}
