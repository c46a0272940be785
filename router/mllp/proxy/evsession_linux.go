package proxy

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nerve-rollouts/nerve/router/mllp/codec"
)

// evSession is one plain-TCP client connection served by an event loop:
// the goroutine session's read frame → route → write upstream → read
// ACK(s) → write client, as a state machine driven by socket edges. Routing,
// dialling, ACK checks, metrics and the mirror are the shared core's.
type evSession struct {
	core
	l     *eventLoop
	cr    fdReader // client socket
	dec   *codec.Decoder
	state evState
	// closing: close once the dial goroutine reports back (stDialing).
	closing bool

	// the message in flight (its bytes alias dec's buffer, which is not
	// advanced until the message is done)
	inflight  bool
	rs        *routeState
	f         codec.Frame
	kh        uint64
	kind      int
	controlID []byte
	follows   bool
	start     time.Time
	u         *upstream
	out       []byte // bytes being written (frame upstream, or ACK to the client)
	outPos    int
	more      bool // an application ACK follows the ACK being relayed
	// deadlines (zero: none)
	ackDeadline time.Time
	frameStart  time.Time
}

type evState uint8

const (
	stIdle     evState = iota // reading the client's next frame
	stDialing                 // a goroutine dials the backend
	stSending                 // writing the frame upstream
	stAwait                   // reading the backend's answer
	stRelaying                // writing the answer to the client
	stClosed
)

func newEvSession(p *Proxy, l *eventLoop, fd int, remote string) *evSession {
	s := &evSession{core: newCore(p, remote), l: l, cr: fdReader{fd: fd}}
	s.detach = true
	s.dec = s.clientDecoder(&s.cr)
	return s
}

// step runs the state machine until it has to wait for an edge.
func (s *evSession) step() {
	for {
		var more bool
		switch s.state {
		case stIdle:
			more = s.readFrame()
		case stSending:
			more = s.flushUpstream()
		case stAwait:
			more = s.readAnswer()
		case stRelaying:
			more = s.flushClient()
		default: // stDialing, stClosed
			return
		}
		if !more {
			return
		}
	}
}

// readFrame takes the client's next frame and starts its exchange.
func (s *evSession) readFrame() bool {
	if s.p.draining.Load() {
		s.close()
		return false
	}
	f, err := s.dec.Next()
	if err == codec.ErrWouldBlock {
		if s.dec.InFrame() && s.frameStart.IsZero() {
			s.frameStart = time.Now()
		}
		return false
	}
	if err != nil {
		s.readFailed(s.dec, err)
		s.close()
		return false
	}
	s.frameStart = time.Time{}
	start := time.Now()
	rs, h, kind, kh, act := s.route(f)
	switch act {
	case actSkip:
		return true
	case actClose:
		s.close()
		return false
	}
	s.rs, s.f, s.kh, s.start = rs, f, kh, start
	s.controlID, s.follows = h.ControlID, ackFollows(&h)
	if u := s.reuse(rs, kind); u != nil {
		return s.send(u, kind)
	}
	s.state = stDialing
	s.l.dials++
	go s.dialAsync(rs, kind)
	return false
}

// dialAsync runs the goroutine session's upstream choice (dial, fallback,
// backoff) off the loop; the loop does not touch the session's upstreams
// until the result is posted.
func (s *evSession) dialAsync(rs *routeState, kind int) {
	u, k := s.upstreamFor(rs, kind)
	if s.l.post(loopMsg{op: opDialed, s: s, u: u, kind: k}) {
		return
	}
	// The loop died (its poll failed) and closed its other sessions: nothing
	// else touches this one any more.
	if u != nil {
		u.close()
	}
	_ = unix.Close(s.cr.fd)
	s.closed()
	s.p.wg.Done()
}

// dialed continues after dialAsync (on the loop).
func (s *evSession) dialed(u *upstream, kind int) {
	s.state = stIdle
	if s.closing || s.l.stop || u == nil {
		s.close()
		return
	}
	if s.send(u, kind) {
		s.step()
	}
}

// send begins the exchange with upstream u; false: the session closed.
func (s *evSession) send(u *upstream, kind int) bool {
	if !u.ev.registered {
		if err := s.l.watch(u.ev.r.fd, slot{s: s, u: u}); err != nil {
			s.p.log.Warn("cannot watch upstream socket, closing client connection", "backend", backendName(kind), "error", err.Error())
			s.close()
			return false
		}
		u.ev.registered = true
	}
	s.u, s.kind = u, kind
	s.out, s.outPos = s.begin(s.rs, s.f, kind, s.kh), 0
	s.inflight = true
	s.ackDeadline = time.Now().Add(s.p.opts.AckTimeout)
	s.state = stSending
	return true
}

func (s *evSession) flushUpstream() bool {
	n, e := writeFD(s.u.ev.r.fd, s.out[s.outPos:])
	s.outPos += n
	if e == syscall.EAGAIN {
		return false
	}
	if e != 0 {
		s.rs.m.err(s.kind, ReasonUpstreamClosed)
		s.dropUpstream(s.kind)
		s.close()
		return false
	}
	s.out, s.state = nil, stAwait
	return true
}

func (s *evSession) readAnswer() bool {
	ack, err := s.u.dec.Next()
	if err == codec.ErrWouldBlock {
		return false
	}
	if err != nil {
		s.upstreamFailed(s.rs, s.kind, err)
		s.close()
		return false
	}
	more, ok := s.answer(s.rs, s.kind, ack, s.controlID, s.follows)
	if !ok {
		s.close()
		return false
	}
	s.out, s.outPos, s.more, s.state = ack.Raw, 0, more, stRelaying
	return true
}

func (s *evSession) flushClient() bool {
	n, e := writeFD(s.cr.fd, s.out[s.outPos:])
	s.outPos += n
	if e == syscall.EAGAIN {
		return false
	}
	if e != 0 {
		s.close()
		return false
	}
	s.out = nil
	if s.more {
		s.state = stAwait
		return true
	}
	s.inflight = false
	end(s.rs, s.kind, s.start, true)
	s.rs, s.f, s.u, s.controlID = nil, codec.Frame{}, nil, nil
	s.ackDeadline, s.state = time.Time{}, stIdle
	return true
}

// checkTimeouts applies the ACK timeout to the message in flight and the
// frame timeout to a started client frame.
func (s *evSession) checkTimeouts(now time.Time) {
	switch {
	case s.state == stSending || s.state == stAwait:
		if now.After(s.ackDeadline) {
			s.upstreamFailed(s.rs, s.kind, os.ErrDeadlineExceeded)
			s.close()
		}
	case s.state == stIdle && !s.frameStart.IsZero() && s.p.opts.FrameTimeout > 0:
		if now.Sub(s.frameStart) > s.p.opts.FrameTimeout {
			s.readFailed(s.dec, fmt.Errorf("%w: %w", codec.ErrIncomplete, os.ErrDeadlineExceeded))
			s.close()
		}
	}
}

// close closes the client connection and releases everything (on the loop).
func (s *evSession) close() {
	switch s.state {
	case stClosed:
		return
	case stDialing:
		s.closing = true
		return
	}
	s.state = stClosed
	if s.inflight {
		s.inflight = false
		end(s.rs, s.kind, s.start, false)
	}
	s.l.forget(s.cr.fd)
	_ = unix.Close(s.cr.fd)
	for _, u := range s.up {
		if u != nil && u.ev.registered {
			s.l.forget(u.ev.r.fd)
		}
	}
	mirror := s.mirror
	s.mirror = nil
	s.closed()
	if mirror != nil { // the worker may be mid-exchange: never wait for it on the loop
		s.p.wg.Add(1)
		go func() { defer s.p.wg.Done(); mirror.stop() }()
	}
	delete(s.l.live, s)
	s.p.wg.Done()
	s.l.maybeStop()
}
