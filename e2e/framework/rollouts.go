//go:build e2e

package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// GetRollout reads a Rollout as nerve's typed struct.
func (e *Env) GetRollout(ctx context.Context, ns, name string) (*v1alpha1.Rollout, error) {
	ri, err := e.ResourceFor(v1alpha1.GroupVersionKind(v1alpha1.RolloutKind), ns)
	if err != nil {
		return nil, err
	}
	return Get[v1alpha1.Rollout](ctx, ri, name)
}

// WaitRollout polls the Rollout until cond holds and returns it; on timeout the failure names
// what was awaited and the last status seen (conditions left out).
func (e *Env) WaitRollout(t testing.TB, ns, name string, timeout time.Duration, what string, cond func(*v1alpha1.Rollout) bool) *v1alpha1.Rollout {
	t.Helper()
	var last *v1alpha1.Rollout
	Eventually(t, timeout, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		ro, err := e.GetRollout(ctx, ns, name)
		if err != nil {
			return false, err
		}
		last = ro
		return cond(ro), nil
	}, "rollout %s: %s (last status: %s)", name, what, lazyStatus{&last})
	return last
}

type lazyStatus struct{ ro **v1alpha1.Rollout }

func (l lazyStatus) String() string {
	if *l.ro == nil {
		return "none"
	}
	st := (*l.ro).Status
	st.Conditions = nil
	b, _ := json.Marshal(st)
	return string(b)
}

// HealthyAt holds for a Rollout that is Healthy on its current pod hash for its current
// generation; it stores the stable hash in hash when that is not nil.
func HealthyAt(hash *string) func(*v1alpha1.Rollout) bool {
	return func(ro *v1alpha1.Rollout) bool {
		ok := ro.Status.Phase == v1alpha1.RolloutPhaseHealthy && ro.Status.StableRS != "" &&
			ro.Status.StableRS == ro.Status.CurrentPodHash && ro.Status.ObservedGeneration == fmt.Sprint(ro.Generation)
		if ok && hash != nil {
			*hash = ro.Status.StableRS
		}
		return ok
	}
}
