//go:build e2e

package mllprouter

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
)

// traffic is several closed-loop senders per proxy, running until stop.
type traffic struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	results []*mllptest.Result
}

// startTraffic runs senders senders against each proxy; each proxy's senders have their own
// control-id prefix (the proxy's index letter) and seed. Patients are synthetic (mllptest.Generator).
func startTraffic(t testing.TB, proxies []*proxy, senders, patients int) *traffic {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	tr := &traffic{cancel: cancel}
	for i, p := range proxies {
		opts := mllptest.SenderOptions{Addr: p.listen, Senders: senders, Reconnect: true,
			Gen: mllptest.GenOptions{Seed: uint64(100 + i), Patients: patients, IDPrefix: string(rune('A' + i))}}
		tr.wg.Go(func() {
			res, _ := mllptest.RunSenders(ctx, opts) // Reconnect: errors are counted, not returned
			tr.mu.Lock()
			tr.results = append(tr.results, res)
			tr.mu.Unlock()
		})
	}
	t.Cleanup(func() { tr.stop() })
	return tr
}

// stop ends the senders and returns their merged results.
func (tr *traffic) stop() *mllptest.Result {
	tr.cancel()
	tr.wg.Wait()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	total := &mllptest.Result{}
	for _, r := range tr.results {
		total.Sent += r.Sent
		total.Acked += r.Acked
		total.Errors += r.Errors
		total.NAKs += r.NAKs
		total.AckedIDs = append(total.AckedIDs, r.AckedIDs...)
	}
	return total
}

// share counts n more messages at the backends and returns the canary share in percent.
func (s *site) share(t *testing.T, n int64) (float64, int64) {
	t.Helper()
	s0, c0 := s.stable.Count(), s.canary.Count()
	framework.Eventually(t, 60*time.Second, 20*time.Millisecond, func(context.Context) (bool, error) {
		return s.stable.Count()+s.canary.Count()-s0-c0 >= n, nil
	}, "%d more messages at the backends", n)
	ds, dc := s.stable.Count()-s0, s.canary.Count()-c0
	return 100 * float64(dc) / float64(ds+dc), ds + dc
}

// checkDelivery asserts that every ACKed message reached a backend and that, per sender
// connection stream and patient key, the backends received messages in send order. It
// returns the number of messages received more than once (resends after a failed exchange).
func checkDelivery(t *testing.T, res *mllptest.Result, backends ...*mllptest.Backend) int {
	t.Helper()
	var recs []mllptest.Record
	for _, b := range backends {
		recs = append(recs, b.Records()...)
	}
	seen := make(map[string]int, len(recs))
	for _, r := range recs {
		seen[r.ControlID]++
	}
	lost := 0
	for _, id := range res.AckedIDs {
		if seen[id] == 0 {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d ACKed messages never reached a backend", lost, len(res.AckedIDs))
	}
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	slices.SortStableFunc(recs, func(a, b mllptest.Record) int { return a.At.Compare(b.At) })
	last := map[string]int{}
	reordered := 0
	for _, r := range recs {
		stream, seq := splitID(t, r.ControlID)
		k := stream + "/" + r.KeyHash
		if prev, ok := last[k]; ok && seq < prev {
			reordered++
		}
		last[k] = seq
	}
	if reordered > 0 {
		t.Fatalf("%d messages arrived out of order for their sender and patient key", reordered)
	}
	t.Logf("delivery: %d sent, %d ACKed, %d send errors (connection closed), %d received, %d keys, 0 lost, 0 reordered, %d duplicates",
		res.Sent, res.Acked, res.Errors, len(recs), len(last), dups)
	return dups
}

// splitID splits a generated control id "<prefix>S<i>-<seq>" into stream and sequence.
func splitID(t *testing.T, id string) (string, int) {
	i := strings.LastIndexByte(id, '-')
	if i < 0 {
		t.Fatalf("control id %q not from mllptest.Generator", id)
	}
	n, err := strconv.Atoi(id[i+1:])
	if err != nil {
		t.Fatalf("control id %q: %v", id, err)
	}
	return id[:i], n
}

// quantile returns the q-quantile of ds (sorted in place).
func quantile(ds []time.Duration, q float64) time.Duration {
	slices.Sort(ds)
	return ds[int(q*float64(len(ds)-1)+0.5)]
}

func fmtShares(m map[int32]float64) string {
	var b strings.Builder
	for _, w := range []int32{0, 5, 25, 50, 100} {
		if v, ok := m[w]; ok {
			fmt.Fprintf(&b, " %d%%→%.2f%%", w, v)
		}
	}
	return b.String()
}
