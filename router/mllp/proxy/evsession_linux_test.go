package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/nerve-rollouts/nerve/router/mllp/codec"
	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
)

// The tests in this file drive the event loop's state machine (evSession)
// against scripted backends on real loopback sockets: frames and ACKs split
// over many edges, pipelined frames, writes the kernel takes only in part,
// timeouts, a backend dying with a message in flight.

// scriptProxy starts a proxy routing everything to a backend served by fn
// (one call per upstream connection) and returns the proxy and its address.
// wrap, if given, wraps the proxy's listener.
func scriptProxy(t *testing.T, opts Options, fn func(c net.Conn), wrap ...func(net.Listener) net.Listener) (*Proxy, string) {
	t.Helper()
	bln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bln.Close() })
	go func() {
		for {
			c, err := bln.Accept()
			if err != nil {
				return
			}
			go func() { defer func() { _ = c.Close() }(); fn(c) }()
		}
	}()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	opts.Metrics = m
	if opts.EventLoops == 0 {
		opts.EventLoops = 2
	}
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr := bln.Addr().String()
	if _, err := p.Apply(RouteConfig{Service: "svc", Stable: []string{addr}, Canary: []string{addr}}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range wrap {
		ln = w(ln)
	}
	go func() { _ = p.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := p.Drain(ctx); err != nil {
			t.Error(err)
		}
	})
	return p, ln.Addr().String()
}

// ackEach answers every frame on c with ack(header) written by write.
func ackEach(c net.Conn, ack func(h codec.Header) []byte, write func(c net.Conn, b []byte) error) {
	dec := codec.NewDecoder(c, codec.Options{MaxFrame: 64 << 20})
	for {
		f, err := dec.Next()
		if err != nil {
			return
		}
		h, err := codec.ParseHeader(f.Payload, false)
		if err != nil {
			return
		}
		if write(c, ack(h)) != nil {
			return
		}
	}
}

func aa(h codec.Header) []byte { return mllptest.AppendACK(nil, h, h.ControlID, "AA", 1) }

func writeAll(c net.Conn, b []byte) error { _, err := c.Write(b); return err }

// writeChunks writes b in n pieces with a pause between them, so that the
// reader sees each piece as its own edge.
func writeChunks(n int) func(c net.Conn, b []byte) error {
	return func(c net.Conn, b []byte) error {
		step := max(len(b)/n, 1)
		for len(b) > 0 {
			k := min(step, len(b))
			if _, err := c.Write(b[:k]); err != nil {
				return err
			}
			b = b[k:]
			time.Sleep(5 * time.Millisecond)
		}
		return nil
	}
}

func loopCounter(t *testing.T, p *Proxy, name, backend string, labels ...string) float64 {
	t.Helper()
	m := p.opts.Metrics
	switch name {
	case "errors":
		return testutil.ToFloat64(m.errors.WithLabelValues(append([]string{"svc", backend}, labels...)...))
	case "received":
		return testutil.ToFloat64(m.received.WithLabelValues("svc", backend))
	}
	t.Fatalf("unknown counter %s", name)
	return 0
}

func loopsStarted(p *Proxy) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.loops.loops)
}

func TestLoopPartialFramesAndACKs(t *testing.T) {
	p, addr := scriptProxy(t, Options{}, func(c net.Conn) { ackEach(c, aa, writeChunks(4)) })
	c := dial(t, addr)
	for i := range 3 {
		id := fmt.Sprintf("P%d", i)
		if err := writeChunks(6)(c.Conn(), mllptest.Frame(msgFor(id, "F", "ADT^A01", "P1"))); err != nil {
			t.Fatal(err)
		}
		if _, code, err := c.ReadACK([]byte(id)); err != nil || code != "AA" {
			t.Fatalf("message %s: %v %q", id, err, code)
		}
	}
	if loopsStarted(p) == 0 {
		t.Fatal("a plain TCP client was not served by an event loop")
	}
}

func TestLoopPipelinedFramesOneInFlight(t *testing.T) {
	var overlap atomic.Int64
	p, addr := scriptProxy(t, Options{}, func(c net.Conn) {
		ackEach(c, aa, func(c net.Conn, b []byte) error {
			// Before answering, make sure the proxy sent nothing more: at
			// most one message in flight per client connection.
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
			var one [1]byte
			if n, _ := c.Read(one[:]); n > 0 {
				overlap.Add(1)
			}
			_ = c.SetReadDeadline(time.Time{})
			return writeAll(c, b)
		})
	})
	c := dial(t, addr)
	var all []byte
	for i := range 8 {
		all = append(all, mllptest.Frame(msgFor(fmt.Sprintf("Q%d", i), "F", "ADT^A01", "P1"))...)
	}
	if _, err := c.Conn().Write(all); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		id := fmt.Sprintf("Q%d", i)
		if _, code, err := c.ReadACK([]byte(id)); err != nil || code != "AA" {
			t.Fatalf("ACK %d: %v %q", i, err, code)
		}
	}
	if n := overlap.Load(); n != 0 {
		t.Fatalf("the backend saw %d messages sent before the previous one was ACKed", n)
	}
	if got := loopCounter(t, p, "received", "stable"); got != 8 {
		t.Fatalf("received %v, want 8", got)
	}
}

// bigMessage returns an HL7 message of about size bytes (one long OBX).
func bigMessage(id string, size int) []byte {
	return append(msgFor(id, "F", "ORU^R01", "P1"), ("OBX|1|ED|PDF||" + strings.Repeat("A", size) + "\r")...)
}

func TestLoopPartialWrites(t *testing.T) {
	// Both far above what the sockets buffer while the peer does not read, so
	// the proxy's writes go out in parts (the ACK stays below the upstream
	// decoder's 4 MiB cap).
	const size, ackSize = 12 << 20, 3 << 20
	var gotHash atomic.Value
	sent := make(chan struct{})
	_, addr := scriptProxy(t, Options{MaxFrame: 32 << 20}, func(c net.Conn) {
		dec := codec.NewDecoder(slowReader{c}, codec.Options{MaxFrame: 32 << 20})
		f, err := dec.Next()
		if err != nil {
			return
		}
		gotHash.Store(sha256.Sum256(f.Payload))
		h, _ := codec.ParseHeader(f.Payload, false)
		// a big ACK (MSA plus a long ERR) the client is slow to read
		ack := mllptest.AppendACK(nil, h, h.ControlID, "AA", 1)
		ack = append(ack[:len(ack)-2], ("ERR|" + strings.Repeat("E", ackSize) + "\r\x1c\r")...)
		_ = writeAll(c, ack)
		close(sent)
	}, func(ln net.Listener) net.Listener { return smallSendBuffer{ln} })
	c := dial(t, addr)
	c.Timeout = 30 * time.Second
	msg := bigMessage("W1", size)
	h, _ := codec.ParseHeader(msg, false)
	if _, err := c.Conn().Write(mllptest.Frame(msg)); err != nil {
		t.Fatal(err)
	}
	<-sent                             // the proxy holds the whole ACK: its write to us must now go out in parts
	time.Sleep(100 * time.Millisecond) // while we do not read
	ack, code, err := c.ReadACK(h.ControlID)
	if err != nil || code != "AA" {
		t.Fatalf("%v %q", err, code)
	}
	if len(ack) < ackSize {
		t.Fatalf("ACK truncated: %d bytes", len(ack))
	}
	if want := sha256.Sum256(msg); gotHash.Load() != want {
		t.Fatal("the backend received different bytes")
	}
}

// smallSendBuffer gives accepted connections a fixed 16 KiB send buffer
// (no autotuning), so that the proxy's writes to a client that does not
// read return EAGAIN.
type smallSendBuffer struct{ net.Listener }

func (l smallSendBuffer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		err = c.(*net.TCPConn).SetWriteBuffer(16 << 10)
	}
	return c, err
}

// slowReader reads at most 64 KiB at a time with a pause, so the proxy's
// upstream socket fills up.
type slowReader struct{ c net.Conn }

func (r slowReader) Read(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	return r.c.Read(p[:min(len(p), 64<<10)])
}

func TestLoopACKTimeoutDoesNotStallOthers(t *testing.T) {
	p, addr := scriptProxy(t, Options{AckTimeout: 150 * time.Millisecond}, func(c net.Conn) {
		ackEach(c, aa, func(c net.Conn, b []byte) error {
			if bytes.Contains(b, []byte("|SLOW")) {
				select {} // never answer this one (the proxy closes us)
			}
			return writeAll(c, b)
		})
	})
	slow, fast := dial(t, addr), dial(t, addr)
	errCh := make(chan error, 1)
	start := time.Now()
	go func() { _, _, err := slow.Send(msgFor("SLOW1", "F", "ADT^A01", "P1")); errCh <- err }()
	n := 0
	for time.Since(start) < 100*time.Millisecond {
		if _, _, err := fast.Send(msgFor(fmt.Sprintf("F%d", n), "F", "ADT^A01", "P2")); err != nil {
			t.Fatalf("fast client while another waits for its ACK: %v", err)
		}
		n++
	}
	if err := <-errCh; !errors.Is(err, io.EOF) {
		t.Fatalf("want the slow client closed after the ACK timeout, got %v", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Fatalf("closed after %v, want the 150ms ACK timeout (+1/8 tick)", d)
	}
	if n < 10 {
		t.Fatalf("only %d fast messages during the wait", n)
	}
	if got := loopCounter(t, p, "errors", "stable", ReasonTimeout); got != 1 {
		t.Fatalf("timeout errors %v", got)
	}
}

func TestLoopBackendDiesMidMessage(t *testing.T) {
	var die atomic.Bool
	die.Store(true)
	p, addr := scriptProxy(t, Options{}, func(c net.Conn) {
		ackEach(c, aa, func(c net.Conn, b []byte) error {
			if die.Load() {
				return io.EOF // close with the message in flight
			}
			return writeAll(c, b)
		})
	})
	c := dial(t, addr)
	if _, _, err := c.Send(msgFor("D1", "F", "ADT^A01", "P1")); !errors.Is(err, io.EOF) {
		t.Fatalf("want the client closed, got %v", err)
	}
	if got := loopCounter(t, p, "errors", "stable", ReasonUpstreamClosed); got != 1 {
		t.Fatalf("upstream_closed %v", got)
	}
	die.Store(false)
	c2 := dial(t, addr)
	if _, code, err := c2.Send(msgFor("D1", "F", "ADT^A01", "P1")); err != nil || code != "AA" {
		t.Fatalf("resend on a new connection: %v %q", err, code)
	}
}

func TestLoopClientGoneAfterLastFrame(t *testing.T) {
	p, addr := scriptProxy(t, Options{}, func(c net.Conn) { ackEach(c, aa, writeAll) })
	c := dial(t, addr)
	if _, _, err := c.Send(msgFor("E1", "F", "ADT^A01", "P1")); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	waitFor(t, func() bool {
		return testutil.ToFloat64(p.opts.Metrics.conns.WithLabelValues("svc", "client")) == 0
	}, "client connections %d", func() int64 {
		return int64(testutil.ToFloat64(p.opts.Metrics.conns.WithLabelValues("svc", "client")))
	})
}

// Without Options.EventLoops the proxy keeps the goroutine engine: no loop is started, and a
// negative count is refused.
func TestGoroutineEngineWithoutEventLoops(t *testing.T) {
	h := newHarness(t, Options{}, mllptest.BackendOptions{}, mllptest.BackendOptions{}, RouteConfig{})
	c := dial(t, h.addr)
	if _, code, err := c.Send(msgFor("C1", "F", "ADT^A01", "P1")); err != nil || code != "AA" {
		t.Fatalf("send: %v %s", err, code)
	}
	if n := loopsStarted(h.p); n != 0 {
		t.Errorf("%d event loops started without Options.EventLoops", n)
	}
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Metrics: m, EventLoops: -1}); err == nil {
		t.Error("EventLoops -1 accepted")
	}
}
