package proxy

import (
	"context"
	"testing"

	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
)

// BenchmarkProxyRoundTrip measures one closed-loop message through the proxy
// (sender, proxy and backend in one process on loopback; N=8 senders).
func BenchmarkProxyRoundTrip(b *testing.B) {
	t := &testing.T{}
	h := newHarness(t, Options{}, mllptest.BackendOptions{}, mllptest.BackendOptions{}, RouteConfig{Weight: 5})
	const senders = 8
	b.ReportAllocs()
	b.ResetTimer()
	res, err := mllptest.RunSenders(context.Background(), mllptest.SenderOptions{Addr: h.addr, Senders: senders,
		Messages: max(b.N/senders, 1), Pool: 256, Gen: mllptest.GenOptions{TargetSize: 1000}})
	if err != nil || res.Errors > 0 {
		b.Fatal(err)
	}
	b.ReportMetric(res.Rate(), "msg/s")
}
