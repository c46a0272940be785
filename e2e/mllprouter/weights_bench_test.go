//go:build e2e

package mllprouter

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/router/mllp"
	mllpproxy "github.com/nerve-rollouts/nerve/router/mllp/proxy"
)

// weightReplicas is how many proxy replicas every change has to reach.
const weightReplicas = 3

// BenchmarkWeightPropagation measures one weight change per op, the way a rollout step makes it:
// the real nerve-mllp plugin (plugin host, go-plugin wire) gets SetWeight and writes the
// MLLPRoute on the local control plane; three nerve-mllp-proxy processes in watch mode, each
// carrying HL7 traffic, pick the change up from their informer. Two latencies per change, both
// from the SetWeight call:
//   - applied: until every replica routes with the new weight, seen through each replica's
//     GET /route?after=<generation> long poll (answered the moment the routing snapshot is swapped);
//   - verified: until VerifyWeight answers Verified (every replica's status entry reports it),
//     which is what holds the rollout step.
//
// Reported as applied-p50-ms, applied-p99-ms, verified-p50-ms, verified-p99-ms; the goal is
// applied p99 < 1 s. Run by `make bench-weights` (-benchtime 100x).
func BenchmarkWeightPropagation(b *testing.B) {
	env := framework.New(b)
	installCRD(b, env)
	s := newSite(b, env, "mllp-weights", "10.244.93", false)
	replicas := make([]*proxy, weightReplicas)
	for i := range replicas {
		replicas[i] = s.startProxy(b, fmt.Sprintf("bench-proxy-%d", i))
	}
	s.waitReplicas(b, weightReplicas, 0)
	r := framework.StartTrafficRouter(b, mllp.DefaultPluginName, pluginBinary)
	ro := s.rollout(map[string]any{"verifyTimeout": "10s"})
	tr := startTraffic(b, replicas, 1, 2000)
	gens := make([]int64, len(replicas))
	for i, p := range replicas {
		ar, err := p.route(b.Context(), -1)
		if err != nil {
			b.Fatal(err)
		}
		gens[i] = ar.Generation
	}
	var applied, verified []time.Duration
	prev := int32(0)
	for b.Loop() {
		w := nextWeight(prev)
		prev = w
		a, v := s.change(b, r, ro, replicas, gens, w)
		applied, verified = append(applied, a), append(verified, v)
	}
	res := tr.stop()
	if res.Acked == 0 {
		b.Fatal("no traffic was ACKed during the benchmark")
	}
	reportQuantiles(b, "applied", applied)
	reportQuantiles(b, "verified", verified)
	b.Logf("weight-propagation: K=%d replicas, %d changes, under %d acked messages: applied p50 %v p99 %v, verified p50 %v p99 %v",
		weightReplicas, len(applied), res.Acked, ms(quantile(applied, 0.5)), ms(quantile(applied, 0.99)),
		ms(quantile(verified, 0.5)), ms(quantile(verified, 0.99)))
}

// nextWeight cycles 10, 20, ... 90 and back, never repeating the previous weight.
func nextWeight(prev int32) int32 {
	if prev >= 90 {
		return 10
	}
	return prev + 10
}

// change makes one SetWeight and returns how long until every replica applied it and until
// VerifyWeight answered Verified. gens holds each replica's applied generation (updated).
func (s *site) change(b *testing.B, r plugins.TrafficRouter, ro *v1alpha1.Rollout, replicas []*proxy, gens []int64, w int32) (applied, verified time.Duration) {
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	at := make([]time.Time, len(replicas))
	errs := make([]error, len(replicas))
	t0 := time.Now()
	for i, p := range replicas { // long polls in flight before the change is written
		wg.Go(func() { at[i], gens[i], errs[i] = p.awaitWeight(ctx, gens[i], w) })
	}
	if err := r.SetWeight(ctx, ro, w, nil); err != nil {
		b.Fatalf("SetWeight(%d): %v", w, err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			b.Fatalf("replica %s did not apply weight %d: %v", replicas[i].name, w, err)
		}
		applied = max(applied, at[i].Sub(t0))
	}
	v, err := r.VerifyWeight(ctx, ro, w, nil)
	if err != nil || v != plugins.Verified {
		b.Fatalf("VerifyWeight(%d) = %v, %v (verdict %q)", w, v, err, s.annotation(b))
	}
	return applied, time.Since(t0)
}

// awaitWeight long-polls the replica's /route until it applies weight w; it returns when that
// answer arrived and the applied generation.
func (p *proxy) awaitWeight(ctx context.Context, gen int64, w int32) (time.Time, int64, error) {
	for {
		ar, err := p.route(ctx, gen)
		if err != nil {
			return time.Time{}, gen, err
		}
		if ar.Weight == w && ar.Generation > gen {
			return time.Now(), ar.Generation, nil
		}
		if ar.Generation > gen {
			gen = ar.Generation
		}
	}
}

// route asks the replica's /route endpoint (after >= 0: long poll for a newer generation).
func (p *proxy) route(ctx context.Context, after int64) (mllpproxy.AppliedRoute, error) {
	url := "http://" + p.metrics + "/route"
	if after >= 0 {
		url += fmt.Sprintf("?after=%d&wait=20s", after)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return mllpproxy.AppliedRoute{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return mllpproxy.AppliedRoute{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	var ar mllpproxy.AppliedRoute
	if resp.StatusCode != http.StatusOK {
		return ar, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&ar); err != nil {
		return ar, fmt.Errorf("GET %s: %w", url, err)
	}
	return ar, nil
}

func reportQuantiles(b *testing.B, name string, ds []time.Duration) {
	b.ReportMetric(float64(quantile(ds, 0.5).Microseconds())/1000, name+"-p50-ms")
	b.ReportMetric(float64(quantile(ds, 0.99).Microseconds())/1000, name+"-p99-ms")
}

func ms(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
