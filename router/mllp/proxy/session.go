package proxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"time"

	"github.com/nerve-rollouts/nerve/router/mllp/codec"
)

// session serves one client connection, one message at a time, on its own
// goroutine (TLS connections, and every connection off Linux).
type session struct {
	core
	conn net.Conn
	dec  *codec.Decoder
}

// core is the per-connection state both engines share (the goroutine
// session and the event loop's evSession): upstreams, routing, mirror.
type core struct {
	p        *Proxy
	up       [2]*upstream
	mirror   *mirrorWorker
	connHash uint64
	scratch  []byte
	m        *svcMetrics
	remote   string
	// downUntil backs off dialling a backend that just refused or timed out,
	// so an unreachable canary costs one dial per second, not one per message.
	downUntil [2]time.Time
	// detach makes dialled upstreams event-loop upstreams (evSession).
	detach bool
}

// clientBuffer is the initial decoder buffer of a client connection (HL7
// messages are mostly a few KiB; the decoder grows it for larger frames).
const clientBuffer = 8 << 10

// connectBackoff is how long a session skips dialling a backend after a connect failure.
const connectBackoff = time.Second

func newCore(p *Proxy, remote string) core {
	h := hashAdd(fnvOffset, []byte(remote))
	return core{p: p, remote: remote, connHash: hashByte(h, byte(p.connSeq.Add(1)))}
}

// clientDecoder returns the decoder of a client connection read through r.
func (c *core) clientDecoder(r io.Reader) *codec.Decoder {
	o := c.p.opts
	return codec.NewDecoder(r, codec.Options{MaxFrame: o.MaxFrame, Lenient: o.Lenient, FrameTimeout: o.FrameTimeout,
		BufferSize: clientBuffer})
}

func newSession(p *Proxy, c net.Conn) *session {
	s := &session{core: newCore(p, c.RemoteAddr().String()), conn: c}
	s.dec = s.clientDecoder(c)
	return s
}

// interrupt wakes a session blocked reading an idle client (drain).
func (s *session) interrupt() { _ = s.conn.SetReadDeadline(time.Now()) }

// forceClose closes the client connection (drain timeout).
func (s *session) forceClose() { _ = s.conn.Close() }

func (s *session) run() {
	defer s.close()
	s.opened()
	for !s.p.draining.Load() {
		if s.dec.Buffered() == 0 {
			yieldBeforeRead()
		}
		f, err := s.dec.Next()
		if err != nil {
			s.readFailed(s.dec, err)
			return
		}
		if !s.handle(f) {
			return
		}
	}
}

func (s *session) close() {
	_ = s.conn.Close()
	s.closed()
}

// opened counts the client connection.
func (c *core) opened() {
	if rs := c.p.state.Load(); rs != nil {
		c.m = rs.m
		c.m.clientConn.Inc()
	}
}

// closed releases the upstreams and the mirror once the client is closed.
func (c *core) closed() {
	if c.m != nil {
		c.m.clientConn.Dec()
	}
	for i, u := range c.up {
		if u != nil {
			u.close()
			c.up[i] = nil
		}
	}
	if c.mirror != nil {
		c.mirror.stop()
	}
}

// readFailed counts fatal client-side framing errors.
func (c *core) readFailed(dec *codec.Decoder, err error) {
	rs := c.p.state.Load()
	if rs == nil {
		return
	}
	if n := dec.Skipped(); n > 0 {
		rs.m.outOfFrame.Add(float64(n))
	}
	switch {
	case errors.Is(err, codec.ErrOversize):
		rs.m.err(idxNone, ReasonOversize)
		c.p.log.Warn("client frame over the size cap, closing", "remote", c.remote)
	case c.p.draining.Load():
	case errors.Is(err, codec.ErrIncomplete) && errors.Is(err, io.EOF):
		rs.m.err(idxNone, ReasonFraming)
	case errors.Is(err, codec.ErrIncomplete), errors.Is(err, codec.ErrMissingCR):
		rs.m.err(idxNone, ReasonFraming)
		c.p.log.Warn("client framing error, closing", "remote", c.remote, "error", errText(err))
	}
}

// yieldBeforeRead lets the other runnable sessions go first when this one
// is about to read a socket that is almost certainly still empty (the
// backend has just been sent the message, or the client just got its ACK).
// A read that finds no data costs a system call (EAGAIN) before the
// goroutine parks; after the yield the answer has often arrived. Measured
// at 32 connections on 2 cores: 2.8 instead of 4 reads per message. With
// nothing else runnable the yield returns at once.
func yieldBeforeRead() { runtime.Gosched() }

// errText returns an error's text; codec and net errors never contain payload bytes.
func errText(err error) string {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return "timeout"
	}
	return err.Error()
}

// handle processes one frame; false closes the client connection.
func (s *session) handle(f codec.Frame) bool {
	start := time.Now()
	rs, h, kind, kh, act := s.route(f)
	if act != actForward {
		return act == actSkip
	}
	up, kind := s.upstreamFor(rs, kind)
	if up == nil {
		return false
	}
	frame := s.begin(rs, f, kind, kh)
	ok := s.exchange(rs, up, kind, frame, h.ControlID, ackFollows(&h))
	end(rs, kind, start, ok)
	return ok
}

// What route decides for a client frame.
const (
	actForward = iota // forward to the picked backend
	actSkip           // counted and dropped; read the next frame
	actClose          // close the client connection
)

// route counts what the decoder skipped, drops frames that are not HL7
// messages and picks the backend for a message.
func (c *core) route(f codec.Frame) (rs *routeState, h codec.Header, kind int, kh uint64, act int) {
	rs = c.p.state.Load()
	if rs == nil {
		c.p.log.Warn("no route applied yet, closing client connection")
		return nil, h, 0, 0, actClose
	}
	if f.Skipped > 0 {
		rs.m.outOfFrame.Add(float64(f.Skipped))
	}
	if f.Resyncs > 0 {
		rs.m.resyncs.Add(float64(f.Resyncs))
	}
	if f.Kind != codec.KindMessage {
		rs.m.err(idxNone, ReasonNotHL7) // empty frames and R2 blocks from a client are never forwarded
		return rs, h, 0, 0, actSkip
	}
	h, err := codec.ParseHeader(f.Payload, rs.needPID)
	if err != nil {
		rs.m.err(idxNone, ReasonNotHL7)
		return rs, h, 0, 0, actSkip
	}
	kind, kh = rs.pick(&h, c.connHash)
	return rs, h, kind, kh, actForward
}

// begin counts a message routed to kind, queues its mirror copy and returns
// the bytes to forward.
func (c *core) begin(rs *routeState, f codec.Frame, kind int, kh uint64) []byte {
	c.p.counts[kind].Add(1)
	rs.m.received[kind].Inc()
	frame := c.wire(f)
	if rs.mirrored(kh) {
		c.mirrorCopy(rs, frame)
	}
	rs.m.inFlight.Inc()
	return frame
}

// end closes the books on a message begun at start.
func end(rs *routeState, kind int, start time.Time, ok bool) {
	rs.m.inFlight.Dec()
	if ok {
		rs.m.latency[kind].Observe(time.Since(start).Seconds())
	}
}

// ackFollows reports whether an accept ACK (CA) will be followed by an application ACK.
func ackFollows(h *codec.Header) bool {
	return len(h.AcceptAckType) > 0 && len(h.AppAckType) > 0 && !bytes.Equal(h.AppAckType, []byte("NE"))
}

// wire returns the frame to forward: the original bytes, re-framed only when
// the client omitted the CR after FS (lenient mode).
func (c *core) wire(f codec.Frame) []byte {
	if f.Raw != nil {
		return f.Raw
	}
	c.scratch = append(append(append(c.scratch[:0], codec.SB), f.Payload...), codec.EB, codec.CR)
	return c.scratch
}

// upstreamFor returns a connected upstream for kind, falling back to the
// other backend when kind cannot be connected to (nothing was sent yet).
func (c *core) upstreamFor(rs *routeState, kind int) (*upstream, int) {
	if u := c.reuse(rs, kind); u != nil {
		return u, kind
	}
	u, err := c.dial(rs, kind)
	if err == nil {
		return u, kind
	}
	rs.m.err(kind, ReasonConnect)
	other := 1 - kind
	if u := c.reuse(rs, other); u != nil {
		rs.m.fallbacks[kind].Inc()
		return u, other
	}
	u, err2 := c.dial(rs, other)
	if err2 == nil {
		rs.m.fallbacks[kind].Inc()
		return u, other
	}
	if len(rs.sets[other].addrs) > 0 {
		rs.m.err(other, ReasonConnect)
	}
	c.p.log.Warn("no backend reachable, closing client connection", "backend", backendName(kind), "error", errText(err))
	return nil, kind
}

// reuse returns the session's upstream for kind if its endpoint is still in
// the backend's set; an upstream whose pod left the set is closed (drained:
// it has no message in flight between messages).
func (c *core) reuse(rs *routeState, kind int) *upstream {
	u := c.up[kind]
	if u == nil {
		return nil
	}
	if u.set == rs.sets[kind] || rs.sets[kind].has(u.addr) {
		u.set = rs.sets[kind]
		return u
	}
	u.close()
	c.up[kind] = nil
	return nil
}

func (c *core) dial(rs *routeState, kind int) (*upstream, error) {
	set := rs.sets[kind]
	if len(set.addrs) == 0 {
		return nil, errNoEndpoints
	}
	if !c.downUntil[kind].IsZero() && time.Now().Before(c.downUntil[kind]) {
		return nil, errBackoff
	}
	addr := set.addrs[c.p.rr.Add(1)%uint64(len(set.addrs))]
	u, err := dialUpstream(addr, c.p.opts.DialTimeout, rs.m, c.detach)
	if err != nil {
		c.downUntil[kind] = time.Now().Add(connectBackoff)
		return nil, err
	}
	c.downUntil[kind] = time.Time{}
	u.set = set
	c.up[kind] = u
	return u, nil
}

// exchange forwards one message and relays its ACK(s). Once bytes were
// written the message is never re-routed: any failure closes the client.
func (s *session) exchange(rs *routeState, u *upstream, kind int, frame, controlID []byte, follows bool) bool {
	if err := u.send(frame, s.p.opts.AckTimeout); err != nil {
		rs.m.err(kind, ReasonUpstreamClosed)
		s.dropUpstream(kind)
		return false
	}
	yieldBeforeRead()
	for {
		ack, err := u.receive()
		if err != nil {
			s.upstreamFailed(rs, kind, err)
			return false
		}
		more, ok := s.relay(rs, kind, ack, controlID, follows)
		if !ok || !more {
			return ok
		}
	}
}

// relay checks and forwards one backend answer. more reports that an
// application ACK is still expected (enhanced mode after CA).
func (s *session) relay(rs *routeState, kind int, ack codec.Frame, controlID []byte, follows bool) (more, ok bool) {
	if more, ok = s.answer(rs, kind, ack, controlID, follows); !ok {
		return false, false
	}
	if _, err := s.conn.Write(ack.Raw); err != nil {
		return false, false
	}
	return more, true
}

// answer checks and counts one backend answer before it is relayed; more
// reports that an application ACK is still expected (enhanced mode after
// CA), !ok that the answer is invalid (the upstream is dropped).
func (c *core) answer(rs *routeState, kind int, ack codec.Frame, controlID []byte, follows bool) (more, ok bool) {
	code, reason := ackCode(ack, controlID)
	if reason != "" {
		rs.m.err(kind, reason)
		c.dropUpstream(kind)
		c.p.log.Warn("invalid backend answer, closing client connection", "backend", backendName(kind), "reason", reason)
		return false, false
	}
	rs.m.ack(kind, code)
	switch string(code) {
	case "AE", "AR", "CE", "CR", "commit_nak":
		rs.m.err(kind, ReasonNAK)
	case "CA":
		more = follows
	}
	return more, true
}

// ackCode validates an answer frame and returns its code label, or a failure reason.
func ackCode(ack codec.Frame, controlID []byte) (code []byte, reason string) {
	switch ack.Kind {
	case codec.KindCommitACK:
		return []byte("commit_ack"), ""
	case codec.KindCommitNAK:
		return []byte("commit_nak"), ""
	case codec.KindEmpty:
		return nil, ReasonACKMismatch
	}
	if ack.Raw == nil {
		return nil, ReasonACKMismatch
	}
	code, id, err := codec.ParseACK(ack.Payload)
	if err != nil || !bytes.Equal(id, controlID) {
		return nil, ReasonACKMismatch
	}
	return code, ""
}

func (c *core) upstreamFailed(rs *routeState, kind int, err error) {
	reason := ReasonUpstreamClosed
	if errors.Is(err, os.ErrDeadlineExceeded) {
		reason = ReasonTimeout
	}
	rs.m.err(kind, reason)
	c.dropUpstream(kind)
	c.p.log.Warn("backend failed with a message in flight, closing client connection", "backend", backendName(kind), "reason", reason)
}

func (c *core) dropUpstream(kind int) {
	if c.up[kind] != nil {
		c.up[kind].close()
		c.up[kind] = nil
	}
}
