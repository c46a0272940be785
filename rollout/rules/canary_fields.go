package rules

import (
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Argo's messages (pkg/apis/rollouts/validation in v1.10.0).
const (
	msgMaxSurgeMaxUnavailable = "MaxSurge and MaxUnavailable both can not be zero"
	msgPingPongServices       = "Ping service and Pong service must to be set to use Ping-Pong feature"
	msgPingPongDuplicated     = "This rollout uses the same service for the ping and pong services, but two different services are required."
)

// fenceposts refuses maxSurge and maxUnavailable that are both zero (an int 0 or "0%"), as
// Argo does, instead of running the rollout with maxUnavailable 1. maxSurge defaults to 25%, so
// the refusal needs maxSurge set.
func fenceposts(fs *findings, c *v1alpha1.CanaryStrategy) {
	if c.MaxSurge == nil || c.MaxUnavailable == nil {
		return
	}
	if intOrPercent(*c.MaxSurge) == 0 && intOrPercent(*c.MaxUnavailable) == 0 {
		fs.fail("spec.strategy.canary.maxSurge", Invalid, "maxSurge and maxUnavailable are both zero: no pod could ever be replaced",
			"%s: %s", intstrValue(*c.MaxSurge), msgMaxSurgeMaxUnavailable)
	}
}

// intOrPercent is Argo's reading of a maxSurge/maxUnavailable value: the number of a percent,
// else the integer (0 for anything else).
func intOrPercent(v intstr.IntOrString) int {
	if v.Type == intstr.String {
		if n, ok := strings.CutSuffix(v.StrVal, "%"); ok {
			if p, err := strconv.Atoi(n); err == nil {
				return p
			}
		}
	}
	return v.IntValue()
}

// intstrValue prints a value as Kubernetes' field errors do: an integer bare, a string quoted.
func intstrValue(v intstr.IntOrString) string {
	if v.Type == intstr.Int {
		return strconv.Itoa(int(v.IntVal))
	}
	return strconv.Quote(v.StrVal)
}

// pingPong reports canary.pingPong: first Argo's own refusals (both Services named, and
// different), then nerve's: it does not run ping-pong, so the Rollout is refused rather than run
// without the pair it names.
func pingPong(fs *findings, c *v1alpha1.CanaryStrategy) {
	pp := c.PingPong
	if pp == nil {
		return
	}
	const path = "spec.strategy.canary.pingPong"
	if pp.PingService == "" {
		fs.fail(path+".pingService", Invalid, "", "%q: %s", pp.PingService, msgPingPongServices)
	}
	if pp.PongService == "" {
		fs.fail(path+".pongService", Invalid, "", "%q: %s", pp.PongService, msgPingPongServices)
	}
	if pp.PingService == pp.PongService {
		fs.fail(path+".pingService", Invalid, "", "%q: %s", pp.PingService, msgPingPongDuplicated)
	}
	fs.fail(path, Unsupported, "nerve's controller does not run ping-pong Services (Argo's controller does); use canaryService and stableService",
		"pingPong (pingService %q, pongService %q) is not supported by nerve's controller; use canaryService and stableService", pp.PingService, pp.PongService)
}
