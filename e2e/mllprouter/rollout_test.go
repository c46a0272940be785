//go:build e2e

package mllprouter

import (
	"context"
	"fmt"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/router/mllp"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

const (
	// perStep messages counted by the backends at each weight (±2 points needs thousands).
	perStep  = 8000
	patients = 20000
)

// TestRolloutSteps drives the plugin (real binary, plugin host, go-plugin wire) through a
// header route, the seed's 5/25/50/100 steps and an abort while two proxy processes carry
// HL7 traffic from four senders, then measures the weight-propagation latency and kills one
// proxy mid-step.
func TestRolloutSteps(t *testing.T) {
	env := framework.New(t)
	installCRD(t, env)
	s := newSite(t, env, "mllp-listener", "10.244.91", false)
	p0, p1 := s.startProxy(t, "e2e-proxy-0"), s.startProxy(t, "e2e-proxy-1")
	s.waitReplicas(t, 2, 0)
	r := framework.StartTrafficRouter(t, mllp.DefaultPluginName, pluginBinary)
	ro := s.rollout(nil)
	tr := startTraffic(t, []*proxy{p0, p1}, 2, patients)
	framework.Eventually(t, 10*time.Second, 20*time.Millisecond, func(context.Context) (bool, error) {
		return s.stable.Count() > 500, nil
	}, "traffic to stable")
	if n := s.canary.Count(); n != 0 {
		t.Fatalf("weight 0: the canary received %d messages", n)
	}
	ctx := t.Context()

	t.Run("header route: MSH-9 ORU^R01 to the canary at weight 0", func(t *testing.T) {
		hr := &v1alpha1.SetHeaderRoute{Name: "oru-first", Match: []v1alpha1.HeaderRoutingMatch{
			{HeaderName: "message-type", HeaderValue: &v1alpha1.StringMatch{Exact: "ORU^R01"}}}}
		must(t, "SetHeaderRoute", r.SetHeaderRoute(ctx, ro, hr))
		untilVerified(t, r, ro, 0, 10*time.Second)
		ns, nc := len(s.stable.Records()), len(s.canary.Records())
		s.share(t, 3000)
		for _, rec := range s.canary.Records()[nc:] {
			if !strings.HasPrefix(rec.Type, "ORU^R01") {
				t.Fatalf("canary received a %s message under the ORU header route at weight 0", rec.Type)
			}
		}
		for _, rec := range s.stable.Records()[ns:] {
			if strings.HasPrefix(rec.Type, "ORU^") {
				t.Fatalf("stable received an ORU^R01 message after the header route was verified")
			}
		}
		t.Logf("ORU^R01 header route: %d messages to the canary, all ORU", len(s.canary.Records())-nc)
		must(t, "SetHeaderRoute(nil match)", r.SetHeaderRoute(ctx, ro, &v1alpha1.SetHeaderRoute{Name: "oru-first"}))
		route, err := s.getRoute(ctx)
		must(t, "get route", err)
		if len(route.Spec.Matches) != 0 {
			t.Fatalf("matches after removing the header route: %+v", route.Spec.Matches)
		}
	})

	shares := map[int32]float64{}
	for _, w := range []int32{5, 25, 50, 100} {
		t.Run(fmt.Sprintf("weight %d", w), func(t *testing.T) {
			must(t, "UpdateHash", r.UpdateHash(ctx, ro, "canary-hash", "stable-hash", nil))
			if w == 25 {
				// Freeze proxy 1: VerifyWeight must hold the step and name it.
				must(t, "SIGSTOP proxy 1", p1.proc.Signal(syscall.SIGSTOP))
			}
			must(t, "SetWeight", r.SetWeight(ctx, ro, w, nil))
			if w == 25 {
				s.holdUntilThawed(t, r, ro, w, p0, p1)
			}
			took := untilVerified(t, r, ro, w, 10*time.Second)
			got, n := s.share(t, perStep)
			shares[w] = got
			t.Logf("weight %d: verified after %v; canary share counted by the backends %.2f%% over %d messages", w, took.Round(time.Millisecond), got, n)
			if math.Abs(got-float64(w)) > 2 {
				t.Fatalf("canary share %.2f%% at weight %d: more than 2 points off", got, w)
			}
		})
	}
	t.Logf("canary share per step:%s", fmtShares(shares))

	t.Run("abort returns all traffic to stable within 1s", func(t *testing.T) {
		hr := &v1alpha1.SetHeaderRoute{Name: "oru-first", Match: []v1alpha1.HeaderRoutingMatch{
			{HeaderName: "MSH-9", HeaderValue: &v1alpha1.StringMatch{Prefix: "ORU"}}}}
		must(t, "SetHeaderRoute", r.SetHeaderRoute(ctx, ro, hr))
		untilVerified(t, r, ro, 100, 10*time.Second)
		// The core loop's abort order (rollout/traffic.go): RemoveManagedRoutes, then SetWeight(0).
		t0 := time.Now()
		must(t, "RemoveManagedRoutes", r.RemoveManagedRoutes(ctx, ro))
		must(t, "SetWeight(0)", r.SetWeight(ctx, ro, 0, nil))
		t1 := time.Now()
		untilVerified(t, r, ro, 0, 5*time.Second)
		nc := len(s.canary.Records())
		s.share(t, 3000)
		time.Sleep(500 * time.Millisecond)
		recs := s.canary.Records()
		if len(recs) != nc {
			t.Fatalf("canary kept receiving after the abort was verified: %d more messages", len(recs)-nc)
		}
		last := recs[len(recs)-1].At
		t.Logf("abort: plugin calls took %v; last canary message %v after the abort was written (%v after it started); stable only since",
			t1.Sub(t0).Round(time.Millisecond), last.Sub(t1).Round(time.Millisecond), last.Sub(t0).Round(time.Millisecond))
		if d := last.Sub(t1); d > time.Second {
			t.Fatalf("last canary message %v after the abort was written (limit 1s)", d)
		}
		route, err := s.getRoute(ctx)
		must(t, "get route", err)
		if len(route.Spec.Matches) != 0 || route.Spec.Mirror != nil || route.Spec.Weight != 0 {
			t.Fatalf("route after abort: %+v", route.Spec)
		}
	})

	t.Run("mirror refused to a canary not flagged shadow", func(t *testing.T) {
		pct := int32(10)
		err := r.SetMirrorRoute(ctx, ro, &v1alpha1.SetMirrorRoute{Name: "shadow", Percentage: &pct, Match: []v1alpha1.RouteMatch{{}}})
		if err == nil || !strings.Contains(err.Error(), "is not flagged shadow (label "+api.ShadowLabel+"=true)") {
			t.Fatalf("SetMirrorRoute = %v, want the shadow refusal", err)
		}
		t.Logf("refusal: %v", err)
	})

	t.Run("weight propagation latency", func(t *testing.T) {
		var lat []time.Duration
		for i := range 24 {
			w := int32(10 + 5*(i%8))
			if i > 0 && w == 10 {
				w = 12
			}
			t0 := time.Now()
			must(t, "SetWeight", r.SetWeight(ctx, ro, w, nil))
			s.pollApplied(t, 2, w)
			lat = append(lat, time.Since(t0))
		}
		p50, p99 := quantile(lat, 0.5), quantile(lat, 0.99)
		t.Logf("weight propagation (SetWeight call → both proxies report the weight), %d changes: p50 %v p99 %v max %v",
			len(lat), p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond), lat[len(lat)-1].Round(100*time.Microsecond))
	})

	t.Run("killed proxy is named until its heartbeat expires", func(t *testing.T) {
		must(t, "SetWeight(25)", r.SetWeight(ctx, ro, 25, nil))
		untilVerified(t, r, ro, 25, 10*time.Second)
		must(t, "kill proxy 1", p1.proc.Kill())
		killed := time.Now()
		lastBeat := s.heartbeat(t, p1.name)
		must(t, "SetWeight(50)", r.SetWeight(ctx, ro, 50, nil))
		var named int
		var verifiedAt time.Duration
		framework.Eventually(t, api.HeartbeatFreshness+3*api.HeartbeatInterval+5*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
			v, err := r.VerifyWeight(ctx, ro, 50, nil)
			if err != nil {
				return false, err
			}
			if v == plugins.Verified {
				verifiedAt = time.Since(killed)
				return true, nil
			}
			if msg := s.annotation(t); strings.Contains(msg, p1.name) && !strings.Contains(msg, p0.name+" (") {
				named++
			} else {
				return false, fmt.Errorf("NotVerified but the verdict does not name only %s: %q", p1.name, msg)
			}
			return false, nil
		}, "the survivor alone verifies weight 50")
		if named == 0 {
			t.Fatalf("VerifyWeight never named the killed proxy %s", p1.name)
		}
		if expiry := lastBeat.Add(api.HeartbeatFreshness); killed.Add(verifiedAt).Before(expiry) {
			t.Fatalf("verified %v after the kill, before the killed proxy's last heartbeat (%v) expired at %v",
				verifiedAt, lastBeat.Format(time.RFC3339), expiry.Format(time.RFC3339))
		}
		msg := s.annotation(t)
		if !strings.Contains(msg, "by 1 live replica(s): "+p0.name) {
			t.Fatalf("verdict after expiry: %q", msg)
		}
		t.Logf("killed %s: named as lagging in %d NotVerified answers; Verified with the survivor %v after the kill (%q)",
			p1.name, named, verifiedAt.Round(100*time.Millisecond), msg)
		got, n := s.share(t, 4000)
		t.Logf("weight 50 on the survivor: canary share %.2f%% over %d messages", got, n)
		if math.Abs(got-50) > 3 {
			t.Fatalf("canary share %.2f%% at weight 50 with one proxy", got)
		}
	})

	res := tr.stop()
	checkDelivery(t, res, s.stable, s.canary)
}

// holdUntilThawed shows VerifyWeight holding the step while proxy 1 is frozen (SIGSTOP) and
// naming it, then thaws it.
func (s *site) holdUntilThawed(t *testing.T, r plugins.TrafficRouter, ro *v1alpha1.Rollout, w int32, p0, p1 *proxy) {
	t.Helper()
	defer func() { must(t, "SIGCONT proxy 1", p1.proc.Signal(syscall.SIGCONT)) }()
	s.pollApplied(t, 1, w) // proxy 0 applied; proxy 1 cannot
	for range 3 {
		if v := verify(t, r, ro, w); v != plugins.NotVerified {
			t.Fatalf("VerifyWeight(%d) = %v while %s is frozen", w, v, p1.name)
		}
		time.Sleep(100 * time.Millisecond)
	}
	msg := s.annotation(t)
	if !strings.Contains(msg, "lagging replicas: "+p1.name+" (") || strings.Contains(msg, p0.name+" (") {
		t.Fatalf("verdict while %s is frozen: %q", p1.name, msg)
	}
	t.Logf("held: %q", msg)
}

// heartbeat returns the replica's last reported heartbeat time.
func (s *site) heartbeat(t *testing.T, replica string) time.Time {
	t.Helper()
	r, err := s.getRoute(t.Context())
	must(t, "get route", err)
	for _, e := range r.Status.Replicas {
		if e.Name == replica {
			return e.HeartbeatTime.Time
		}
	}
	t.Fatalf("no status entry for %s: %+v", replica, r.Status.Replicas)
	return time.Time{}
}

// pollApplied waits (tight poll) until n fresh replicas report weight w at the current
// generation (n=1: at least one).
func (s *site) pollApplied(t *testing.T, n int, w int32) {
	t.Helper()
	framework.Eventually(t, 10*time.Second, 2*time.Millisecond, func(ctx context.Context) (bool, error) {
		r, err := s.getRoute(ctx)
		if err != nil {
			return false, err
		}
		got := 0
		for _, f := range r.Status.FreshReplicas(time.Now()) {
			if f.ObservedGeneration >= r.Generation && f.Weight == w {
				got++
			}
		}
		return got >= n, nil
	}, "%d replicas apply weight %d", n, w)
}
