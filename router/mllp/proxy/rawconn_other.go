//go:build !linux

package proxy

import "net"

// fastConn returns c unchanged (raw system calls are used on Linux only).
func fastConn(c net.Conn) net.Conn { return c }
