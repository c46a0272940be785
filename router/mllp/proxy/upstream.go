package proxy

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/nerve-rollouts/nerve/router/mllp/codec"
)

var (
	errNoEndpoints = errors.New("backend has no endpoints")
	errBackoff     = errors.New("backend connect failed less than a second ago")
)

// upstream is one persistent MLLP connection to a backend pod.
type upstream struct {
	addr string
	set  *backendSet
	conn net.Conn
	dec  *codec.Decoder
	m    *svcMetrics
	// deadline is the connection's current read/write deadline (see send).
	deadline time.Time
	// ev is set for an event-loop upstream: the socket is ev.fd, out of Go's
	// poller, and conn is nil.
	ev *evUpstream
}

// ackSlackDiv bounds how far past the ACK timeout a deadline may be set, so that
// the deadline is re-armed only every ackTimeout/8 of traffic instead of
// for every message: a backend gets between 1 and 1.125 ACK timeouts.
const ackSlackDiv = 8

// upstreamBuffer is the initial decoder buffer of an upstream connection:
// it reads ACKs (~100-500 bytes) and grows if a backend answers with more.
const upstreamBuffer = 2 << 10

// dialUpstream connects to addr; detach makes it an event-loop upstream.
func dialUpstream(addr string, timeout time.Duration, m *svcMetrics, detach bool) (*upstream, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	u := &upstream{addr: addr, m: m}
	if detach {
		if u.ev, err = detachConn(c); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("connect: %w", err)
		}
		u.dec = codec.NewDecoder(u.ev.reader(), codec.Options{BufferSize: upstreamBuffer})
	} else {
		u.conn = fastConn(c)
		u.dec = codec.NewDecoder(u.conn, codec.Options{BufferSize: upstreamBuffer})
	}
	m.upConn.Inc()
	return u, nil
}

// send writes a frame and makes sure the ACK deadline is at least
// ackTimeout away (re-arming it only when it is closer).
func (u *upstream) send(frame []byte, ackTimeout time.Duration) error {
	if now := time.Now(); u.deadline.Sub(now) < ackTimeout {
		u.deadline = now.Add(ackTimeout + ackTimeout/ackSlackDiv)
		if err := u.conn.SetDeadline(u.deadline); err != nil {
			return err
		}
	}
	_, err := u.conn.Write(frame)
	return err
}

// receive reads the next answer frame (valid until the next receive).
func (u *upstream) receive() (codec.Frame, error) { return u.dec.Next() }

func (u *upstream) close() {
	if u.ev != nil {
		u.ev.close()
	} else {
		_ = u.conn.Close()
	}
	u.m.upConn.Dec()
}
