//go:build e2e

package rollout

import (
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// TestHeaderAndMirrorRoutes: setHeaderRoute and setMirrorRoute reach the router only while
// their step is current (after the 20% step, before the 60% one), and the managed routes are
// removed once the update completes.
func TestHeaderAndMirrorRoutes(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.services("hr", "hr-stable", "hr-canary")
	steps := `      - setWeight: 20
      - setHeaderRoute:
          name: canary-header
          match: [{headerName: X-Canary, headerValue: {exact: "yes"}}]
      - setMirrorRoute:
          name: canary-mirror
          percentage: 50
          match: [{method: {exact: GET}}]
      - pause: {}
      - setWeight: 60
`
	managed := "      trafficRouting:\n        managedRoutes: [{name: canary-header}, {name: canary-mirror}]\n        plugins:\n          e2e/record: {}\n"
	body := "      canaryService: hr-canary\n      stableService: hr-stable\n      scaleDownDelaySeconds: 1\n" + managed + "      steps:\n" + steps
	s.apply(rolloutYAML("hr", 2, body))
	s.waitRollout("hr", 60*time.Second, "initial deploy healthy", healthyAt(nil))
	s.setImage("hr", "v2")
	s.waitRollout("hr", 60*time.Second, "paused after the route steps", func(ro *v1alpha1.Rollout) bool {
		return stepIs(3)(ro) && ro.Status.Phase == v1alpha1.RolloutPhasePaused
	})
	s.promote("hr")
	s.waitRollout("hr", 60*time.Second, "completed, weight back to 0 on the new stable", func(ro *v1alpha1.Rollout) bool {
		w := ro.Status.Canary.Weights
		return healthyAt(nil)(ro) && w != nil && w.Canary.Weight == 0 && w.Stable.PodTemplateHash == ro.Status.StableRS
	})
	var weightAtHeader, weightAtMirror int32 = -1, -1
	last := int32(0)
	removedAfter := false
	sawMirror := false
	for _, c := range s.calls() {
		switch c.Method {
		case "SetWeight":
			last = c.Weight
		case "SetHeaderRoute":
			if c.Route != "canary-header" {
				t.Errorf("header route %q", c.Route)
			}
			weightAtHeader = last
		case "SetMirrorRoute":
			weightAtMirror, sawMirror = last, true
		case "RemoveManagedRoutes":
			removedAfter = sawMirror
		}
	}
	if weightAtHeader != 20 || weightAtMirror != 20 {
		t.Errorf("header route sent at weight %d, mirror at %d: want both only while at 20%%", weightAtHeader, weightAtMirror)
	}
	if !removedAfter {
		t.Error("RemoveManagedRoutes not called after the update completed")
	}
}
