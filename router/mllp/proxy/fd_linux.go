package proxy

import (
	"io"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nerve-rollouts/nerve/router/mllp/codec"
)

// fdReader reads a non-blocking socket owned by an event loop, for a
// codec.Decoder. Its registration is edge-triggered: readable is set by an
// event and cleared once a read finds the socket empty, which a short read
// already proves (a TCP read returns less than asked only when it drained
// the receive queue; later data brings a new edge), so a read that would
// return EAGAIN is rarely made. After a hang-up event readable stays set
// until the end of stream is read: data and FIN may come in one edge.
type fdReader struct {
	fd       int
	readable bool
	hup      bool
}

// Read reads into p, or returns codec.ErrWouldBlock when no data is there yet.
func (r *fdReader) Read(p []byte) (int, error) {
	if !r.readable {
		return 0, codec.ErrWouldBlock
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(r.fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		switch e {
		case 0:
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			r.readable = false
			return 0, codec.ErrWouldBlock
		default:
			return 0, wrapNetErr("read", e)
		}
		if n == 0 {
			return 0, io.EOF
		}
		if int(n) < len(p) && !r.hup {
			r.readable = false
		}
		return int(n), nil
	}
}

// event records what an epoll event says about the socket.
func (r *fdReader) event(ev uint32) {
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		r.readable = true
	}
	if ev&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		r.hup = true
	}
}

// writeFD writes as much of b as the socket takes now; EAGAIN is returned
// with the count written so far (wait for an EPOLLOUT edge, then go on).
func writeFD(fd int, b []byte) (int, syscall.Errno) {
	n := 0
	for n < len(b) {
		w, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[n])), uintptr(len(b)-n))
		switch e {
		case 0:
			n += int(w)
		case syscall.EINTR:
		default:
			return n, e
		}
	}
	return n, 0
}

// detachFD takes a TCP connection's socket out of Go's poller: it returns
// a close-on-exec duplicate (non-blocking, as the original) and closes the
// net.Conn, so that only the event loop's epoll watches the socket.
func detachFD(c net.Conn) (int, error) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return -1, &net.OpError{Op: "detach", Net: "tcp", Err: syscall.EINVAL}
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, derr
	}
	_ = tc.Close()
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// evUpstream is the socket of an event-loop upstream.
type evUpstream struct {
	r          fdReader
	registered bool // added to its loop's epoll
}

func detachConn(c net.Conn) (*evUpstream, error) {
	fd, err := detachFD(c)
	if err != nil {
		return nil, err
	}
	return &evUpstream{r: fdReader{fd: fd}}, nil
}

func (e *evUpstream) close() { _ = unix.Close(e.r.fd) }

func (e *evUpstream) reader() io.Reader { return &e.r }
