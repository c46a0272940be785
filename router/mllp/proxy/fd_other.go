//go:build !linux

package proxy

import (
	"errors"
	"io"
	"net"
)

// evUpstream exists on Linux only (event loop); elsewhere every session
// runs on its own goroutine.
type evUpstream struct{}

func (e *evUpstream) close() {}

func (e *evUpstream) reader() io.Reader { return nil }

func detachConn(net.Conn) (*evUpstream, error) { return nil, errors.ErrUnsupported }

// loopGroup is empty off Linux.
type loopGroup struct{}

func (p *Proxy) adopt(*net.TCPConn) bool { return false }

func (g *loopGroup) drain() {}

func (g *loopGroup) forceClose() int { return 0 }
