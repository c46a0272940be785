//go:build e2e

package argo

import (
	"fmt"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// timedPauseSteps: 50%, a 2s pause, 75%, a 2s pause.
const timedPauseSteps = `      - setWeight: 50
      - pause: {duration: 2s}
      - setWeight: 75
      - pause: {duration: 2s}
`

// runCanary deploys v1 then v2 through timedPauseSteps and returns the final observable status.
func runCanary(t *testing.T, kind controllerKind) outcome {
	t.Helper()
	s := newSuite(t, kind)
	s.env.Apply(t, rolloutYAML("canary", "", timedPauseSteps))
	var v1 string
	s.waitRollout("canary", 90*time.Second, "initial deploy healthy", healthyAt(&v1))
	s.setImage("canary", "v2")
	ro := s.waitRollout("canary", 90*time.Second, "v2 promoted", func(ro *v1alpha1.Rollout) bool {
		return healthyAt(nil)(ro) && ro.Status.StableRS != v1
	})
	o := outcome{Phase: ro.Status.Phase, Abort: ro.Status.Abort, Promoted: ro.Status.StableRS != v1, Message: ro.Status.Message}
	if ro.Status.CurrentStepIndex != nil {
		o.Values = append(o.Values, fmt.Sprintf("step=%d", *ro.Status.CurrentStepIndex))
	}
	o.Values = append(o.Values, fmt.Sprintf("replicas=%d/%d/%d", ro.Status.Replicas, ro.Status.UpdatedReplicas, ro.Status.AvailableReplicas))
	t.Logf("%s: %s", kind, o)
	return o
}

// TestCanaryArgoVsNerve: the same timed canary under the real Argo controller (on nerve's
// CRDs) and under nerve's loop, in parallel in separate namespaces, ends in the same status.
func TestCanaryArgoVsNerve(t *testing.T) {
	got := underBoth(t, runCanary)
	if t.Failed() {
		return
	}
	if a, n := got[argoController], got[nerveController]; a.String() != n.String() {
		t.Errorf("outcomes differ:\n argo:  %s\n nerve: %s", a, n)
	}
}
