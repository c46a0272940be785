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
}

func dialUpstream(addr string, timeout time.Duration, m *svcMetrics) (*upstream, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	m.upConn.Inc()
	return &upstream{addr: addr, conn: c, dec: codec.NewDecoder(c, codec.Options{}), m: m}, nil
}

// send writes a frame and arms the ACK deadline.
func (u *upstream) send(frame []byte, ackTimeout time.Duration) error {
	if err := u.conn.SetDeadline(time.Now().Add(ackTimeout)); err != nil {
		return err
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
