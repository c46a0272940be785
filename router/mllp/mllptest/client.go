package mllptest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/nerve-rollouts/nerve/router/mllp/codec"
)

// ErrACKMismatch is returned when an ACK's MSA-2 differs from the sent MSH-10.
var ErrACKMismatch = errors.New("mllp: ACK MSA-2 does not match MSH-10")

// Client is one synchronous MLLP connection: Send waits for the ACK.
type Client struct {
	conn    net.Conn
	dec     *codec.Decoder
	buf     []byte
	Timeout time.Duration
}

// Dial connects to addr (127.0.0.1 only in tests). tlsConf may be nil.
func Dial(addr string, tlsConf *tls.Config) (*Client, error) {
	return DialContext(context.Background(), addr, tlsConf)
}

// DialContext is Dial bounded by ctx (a dial timeout, a stopping sender).
func DialContext(ctx context.Context, addr string, tlsConf *tls.Config) (*Client, error) {
	var c net.Conn
	var err error
	if tlsConf != nil {
		c, err = (&tls.Dialer{Config: tlsConf}).DialContext(ctx, "tcp", addr)
	} else {
		c, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &Client{conn: c, dec: codec.NewDecoder(c, codec.Options{}), Timeout: 10 * time.Second}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Conn exposes the underlying connection (for raw writes in tests).
func (c *Client) Conn() net.Conn { return c.conn }

// Send frames payload, sends it and returns the ACK payload (valid until the
// next call) and its MSA-1 code.
// In enhanced mode an accept ACK (CA) is skipped and the application ACK returned.
func (c *Client) Send(payload []byte) (ack []byte, code string, err error) {
	h, err := codec.ParseHeader(payload, false)
	if err != nil {
		return nil, "", err
	}
	c.buf = append(append(append(c.buf[:0], codec.SB), payload...), codec.EB, codec.CR)
	if c.Timeout > 0 {
		_ = c.conn.SetDeadline(time.Now().Add(c.Timeout))
	}
	if _, err := c.conn.Write(c.buf); err != nil {
		return nil, "", err
	}
	return c.ReadACK(h.ControlID)
}

// ReadACK reads answers until one that is not an accept ACK; it checks MSA-2
// against controlID. The payload is valid until the next call.
func (c *Client) ReadACK(controlID []byte) ([]byte, string, error) {
	for {
		f, err := c.dec.Next()
		if err != nil {
			return nil, "", err
		}
		if f.Kind == codec.KindCommitACK || f.Kind == codec.KindCommitNAK {
			return f.Payload, "", nil
		}
		code, id, err := codec.ParseACK(f.Payload)
		if err != nil {
			return nil, "", err
		}
		if string(id) != string(controlID) {
			return nil, string(code), ErrACKMismatch
		}
		if string(code) == "CA" {
			continue
		}
		return f.Payload, string(code), nil
	}
}
