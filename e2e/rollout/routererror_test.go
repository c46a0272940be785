//go:build e2e

package rollout

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// TestRouterPluginErrorIsReported: a router plugin that cannot start (its sha256 does not match
// the binary) gives a Warning TrafficRoutingError event and a ReconciliationError condition,
// the controller keeps running, and fixing the ConfigMap lets the update complete.
func TestRouterPluginErrorIsReported(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.services("re", "re-stable", "re-canary")
	s.apply(rolloutYAML("re", 1, trafficCanary("re", "      - setWeight: 50\n")))
	s.waitRollout("re", 60*time.Second, "initial deploy healthy", healthyAt(nil))
	s.badRouterSum = true
	s.writeConfig()
	s.setImage("re", "v2")
	ro := s.waitRollout("re", 60*time.Second, "ReconciliationError condition", func(ro *v1alpha1.Rollout) bool {
		c := condition(ro, v1alpha1.RolloutProgressing)
		return c != nil && c.Reason == "ReconciliationError"
	})
	if c := condition(ro, v1alpha1.RolloutProgressing); !strings.Contains(c.Message, "failed to get traffic router plugin e2e/record") {
		t.Errorf("condition message %q", c.Message)
	}
	framework.Eventually(t, 20*time.Second, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		evs, err := s.env.Client.CoreV1().Events(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.Reason == "TrafficRoutingError" && e.Type == "Warning" {
				return true, nil
			}
		}
		return false, fmt.Errorf("%d events, none TrafficRoutingError", len(evs.Items))
	}, "Warning TrafficRoutingError event")
	if s.ctrl.Exited() {
		t.Fatal("the controller exited on a plugin error")
	}
	s.badRouterSum = false
	s.writeConfig()
	s.waitRollout("re", 60*time.Second, "completes once the plugin is fixed", healthyAt(nil))
}
