package proxy

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nerve-rollouts/nerve/router/mllp/codec"
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

// BenchmarkProxyMessage sends one 1 KB message at a time through the proxy
// (weight 5, PID-3 hashing, metrics on) to a backend answering with a fixed
// ACK. Client and backend reuse their buffers, so allocs/op is the proxy's
// own per-message allocation: it must be 0.
func BenchmarkProxyMessage(b *testing.B) {
	gen := mllptest.NewGenerator(mllptest.GenOptions{TargetSize: 1000})
	m := gen.Next()
	frame := mllptest.Frame(m.Payload)
	h, err := codec.ParseHeader(m.Payload, false)
	if err != nil {
		b.Fatal(err)
	}
	ack := mllptest.AppendACK(nil, h, h.ControlID, "AA", 1)
	stable, canary := ackServer(b, len(frame), ack), ackServer(b, len(frame), ack)
	addr := benchProxy(b, RouteConfig{Service: "bench", Weight: 5, Stable: []string{stable}, Canary: []string{canary}})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	in := make([]byte, len(ack))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(frame); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, in); err != nil {
			b.Fatal(err)
		}
	}
}

// ackServer answers every frameLen-byte frame with ack on each accepted connection.
func ackServer(b *testing.B, frameLen int, ack []byte) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				buf := make([]byte, frameLen)
				for {
					if _, err := io.ReadFull(c, buf); err != nil {
						return
					}
					if _, err := c.Write(ack); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// benchProxy starts a proxy serving cfg on 127.0.0.1 and returns its address.
func benchProxy(b *testing.B, cfg RouteConfig) string {
	b.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	p, err := New(Options{Metrics: m})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Apply(cfg); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = p.Serve(ln) }()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = p.Drain(ctx)
	})
	return ln.Addr().String()
}
