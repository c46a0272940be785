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
}

// ackSlackDiv bounds how far past the ACK timeout a deadline may be set, so that
// the deadline is re-armed only every ackTimeout/8 of traffic instead of
// for every message: a backend gets between 1 and 1.125 ACK timeouts.
const ackSlackDiv = 8

// upstreamBuffer is the initial decoder buffer of an upstream connection:
// it reads ACKs (~100-500 bytes) and grows if a backend answers with more.
const upstreamBuffer = 2 << 10

func dialUpstream(addr string, timeout time.Duration, m *svcMetrics) (*upstream, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	m.upConn.Inc()
	c = fastConn(c)
	return &upstream{addr: addr, conn: c, dec: codec.NewDecoder(c, codec.Options{BufferSize: upstreamBuffer}), m: m}, nil
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
	_ = u.conn.Close()
	u.m.upConn.Dec()
}
