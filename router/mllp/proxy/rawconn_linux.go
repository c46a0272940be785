package proxy

import (
	"errors"
	"io"
	"net"
	"syscall"
	"unsafe"
)

// rawConn reads and writes a TCP socket with raw read(2)/write(2) calls
// made inside the Go poller's wait loop (syscall.RawConn). The socket is
// non-blocking, so the calls never block; skipping the runtime's
// entersyscall/exitsyscall saves their cost and, more importantly on a
// small box, keeps the runtime's sysmon thread asleep: every entersyscall
// after an idle moment wakes sysmon, which then polls every 20 µs (the
// profile of the goroutine-per-session proxy on 2 cores showed ~18 % of
// its CPU in sysmon's usleep and futex wake-ups). Deadlines set on the
// connection still apply: the poller's wait returns os.ErrDeadlineExceeded.
//
// A rawConn is used by one goroutine at a time for reading and one for
// writing (the session's); its callbacks are method values bound once, so
// a Read or Write does not allocate.
type rawConn struct {
	net.Conn
	rc      syscall.RawConn
	readFn  func(fd uintptr) bool
	writeFn func(fd uintptr) bool
	rbuf    []byte
	rn      int
	rerr    syscall.Errno
	wbuf    []byte
	wn      int
	werr    syscall.Errno
}

// fastConn wraps a *net.TCPConn in a rawConn; other connections (TLS) are returned unchanged.
func fastConn(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	r := &rawConn{Conn: c, rc: rc}
	r.readFn, r.writeFn = r.doRead, r.doWrite
	return r
}

func (r *rawConn) doRead(fd uintptr) bool {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.rbuf[0])), uintptr(len(r.rbuf)))
	if e == syscall.EINTR {
		return r.doRead(fd)
	}
	r.rn, r.rerr = int(n), e
	return e != syscall.EAGAIN
}

// Read reads into p (at least one byte, or an error; io.EOF at end of stream).
func (r *rawConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.rbuf = p
	err := r.rc.Read(r.readFn)
	r.rbuf = nil
	if err != nil {
		return 0, wrapNetErr("read", err)
	}
	if r.rerr != 0 {
		return 0, wrapNetErr("read", r.rerr)
	}
	if r.rn == 0 {
		return 0, io.EOF
	}
	return r.rn, nil
}

func (r *rawConn) doWrite(fd uintptr) bool {
	for r.wn < len(r.wbuf) {
		b := r.wbuf[r.wn:]
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch e {
		case 0:
			r.wn += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false // wait until writable, then continue
		default:
			r.werr = e
			return true
		}
	}
	return true
}

// Write writes all of p.
func (r *rawConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.wbuf, r.wn, r.werr = p, 0, 0
	err := r.rc.Write(r.writeFn)
	n := r.wn
	r.wbuf = nil
	if err == nil && r.werr != 0 {
		err = r.werr
	}
	if err != nil {
		return n, wrapNetErr("write", err)
	}
	return n, nil
}

// wrapNetErr returns err as a *net.OpError like net.Conn's methods do
// (deadline errors keep matching os.ErrDeadlineExceeded).
func wrapNetErr(op string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return err
	}
	return &net.OpError{Op: op, Net: "tcp", Err: err}
}
