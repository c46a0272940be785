package rules

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// TestMaxSurgeAndMaxUnavailableBothZeroRefused: Argo's message, for 0 and "0%" alike; a zero
// maxUnavailable beside the default maxSurge (25%) is fine.
func TestMaxSurgeAndMaxUnavailableBothZeroRefused(t *testing.T) {
	cases := []struct {
		surge, unavailable *intstr.IntOrString
		want               string
	}{
		{ptr.To(intstr.FromInt32(0)), ptr.To(intstr.FromInt32(0)), "spec.strategy.canary.maxSurge: Invalid value: 0: MaxSurge and MaxUnavailable both can not be zero"},
		{ptr.To(intstr.FromString("0%")), ptr.To(intstr.FromString("0%")), `spec.strategy.canary.maxSurge: Invalid value: "0%": MaxSurge and MaxUnavailable both can not be zero`},
		{ptr.To(intstr.FromString("0%")), ptr.To(intstr.FromInt32(0)), `spec.strategy.canary.maxSurge: Invalid value: "0%": MaxSurge and MaxUnavailable both can not be zero`},
		{nil, ptr.To(intstr.FromInt32(0)), ""},
		{ptr.To(intstr.FromInt32(0)), ptr.To(intstr.FromInt32(1)), ""},
	}
	for _, c := range cases {
		ro := valid(func(ro *v1alpha1.Rollout) {
			ro.Spec.Strategy.Canary.MaxSurge, ro.Spec.Strategy.Canary.MaxUnavailable = c.surge, c.unavailable
		})
		got := ""
		if f := FirstError(ValidateRollout(ro, env())); f != nil {
			got = f.String()
		}
		if got != c.want {
			t.Fatalf("maxSurge %v maxUnavailable %v: got %q, want %q", c.surge, c.unavailable, got, c.want)
		}
	}
}

// TestPingPongRefusedByName: pingPong is refused naming spec.strategy.canary.pingPong (with
// Argo's own refusals of a missing or duplicated Service first), never with "requires both
// canaryService and stableService".
func TestPingPongRefusedByName(t *testing.T) {
	cases := []struct {
		pp   v1alpha1.PingPongSpec
		want []string
	}{
		{v1alpha1.PingPongSpec{PingService: "ping", PongService: "pong"}, []string{
			`spec.strategy.canary.pingPong: Unsupported value: pingPong (pingService "ping", pongService "pong") is not supported by nerve's controller; use canaryService and stableService`}},
		{v1alpha1.PingPongSpec{PingService: "ping"}, []string{
			`spec.strategy.canary.pingPong.pongService: Invalid value: "": Ping service and Pong service must to be set to use Ping-Pong feature`,
			`spec.strategy.canary.pingPong: Unsupported value: pingPong (pingService "ping", pongService "") is not supported by nerve's controller; use canaryService and stableService`}},
		{v1alpha1.PingPongSpec{PingService: "p", PongService: "p"}, []string{
			`spec.strategy.canary.pingPong.pingService: Invalid value: "p": This rollout uses the same service for the ping and pong services, but two different services are required.`,
			`spec.strategy.canary.pingPong: Unsupported value: pingPong (pingService "p", pongService "p") is not supported by nerve's controller; use canaryService and stableService`}},
	}
	for _, c := range cases {
		ro := valid(func(ro *v1alpha1.Rollout) {
			ro.Spec.Strategy.Canary.CanaryService, ro.Spec.Strategy.Canary.StableService = "", ""
			ro.Spec.Strategy.Canary.PingPong = &c.pp
		})
		var got []string
		for _, f := range ValidateRollout(ro, env()) {
			if f.Severity == Error {
				got = append(got, f.String())
			}
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Fatalf("pingPong %+v:\n got %s\nwant %s", c.pp, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}
