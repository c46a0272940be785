package proxy

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// eventLoop serves plain-TCP client connections (evSession) from one
// goroutine: an epoll instance of its own watches the client and upstream
// sockets (edge-triggered), and the goroutine blocks in Go's poller on the
// epoll descriptor itself (nested epoll), so that waiting costs neither
// entersyscall (which would wake sysmon) nor a thread. Per batch of events
// it pays one epoll_wait(0); every socket operation is a raw read(2) or
// write(2) that the edge says will find data or room.
type eventLoop struct {
	p      *Proxy
	epfd   int
	file   *os.File // epfd, registered in Go's poller
	rc     syscall.RawConn
	wakeFD int // eventfd: the inbox has messages
	pollFn func(uintptr) bool
	events []unix.EpollEvent
	slots  []slot // by file descriptor
	live   map[*evSession]struct{}
	dials  int // sessions waiting for a dial goroutine
	tick   time.Duration
	armed  time.Time // the epoll file's read deadline (zero: none)
	stop   bool

	mu      sync.Mutex
	inbox   []loopMsg
	spare   []loopMsg
	stopped bool
}

// slot maps a descriptor to its session; u is set for an upstream socket.
type slot struct {
	s *evSession
	u *upstream
}

type loopOp uint8

const (
	opAdd        loopOp = iota // adopt a new client connection
	opDialed                   // a dial goroutine finished
	opDrain                    // close idle sessions, the others after their message
	opForceClose               // close every session now (drain timeout)
)

type loopMsg struct {
	op    loopOp
	s     *evSession
	u     *upstream
	kind  int
	reply chan int
}

// loopEvents is the epoll_wait batch size.
const loopEvents = 128

// loopGroup is the proxy's event loops (guarded by Proxy.mu).
type loopGroup struct {
	loops []*eventLoop
	next  int
}

// adopt hands a plain TCP client connection to an event loop; false leaves
// it to the goroutine session (no loop could be started).
func (p *Proxy) adopt(tc *net.TCPConn) bool {
	remote := tc.RemoteAddr().String()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.draining.Load() {
		_ = tc.Close()
		return true
	}
	l, err := p.loops.pick(p)
	if err != nil {
		p.log.Warn("event loop unavailable, serving the connection on a goroutine", "error", err.Error())
		return false
	}
	fd, err := detachFD(tc)
	if err != nil {
		p.log.Warn("cannot detach client socket, closing", "remote", remote, "error", err.Error())
		_ = tc.Close()
		return true
	}
	s := newEvSession(p, l, fd, remote)
	p.wg.Add(1)
	if !l.post(loopMsg{op: opAdd, s: s}) {
		p.wg.Done()
		_ = unix.Close(fd)
	}
	return true
}

// pick returns the next loop, starting the loops on first use.
func (g *loopGroup) pick(p *Proxy) (*eventLoop, error) {
	if len(g.loops) == 0 {
		for range p.opts.EventLoops { // adopt runs only when EventLoops > 0
			l, err := newEventLoop(p)
			if err != nil {
				return nil, err
			}
			g.loops = append(g.loops, l)
			go l.run()
		}
	}
	l := g.loops[g.next%len(g.loops)]
	g.next++
	return l, nil
}

// drain asks every loop to drain (Proxy.Drain, under Proxy.mu).
func (g *loopGroup) drain() {
	for _, l := range g.loops {
		l.post(loopMsg{op: opDrain})
	}
}

// forceClose closes every loop session now and returns how many there were.
func (g *loopGroup) forceClose() int {
	n := 0
	for _, l := range g.loops {
		ch := make(chan int, 1)
		if l.post(loopMsg{op: opForceClose, reply: ch}) {
			n += <-ch
		}
	}
	return n
}

func newEventLoop(p *Proxy) (*eventLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	l := &eventLoop{p: p, epfd: epfd, wakeFD: wake, events: make([]unix.EpollEvent, loopEvents),
		live: map[*evSession]struct{}{}, tick: loopTick(p.opts)}
	if err := unix.SetNonblock(epfd, true); err == nil {
		l.file = os.NewFile(uintptr(epfd), "mllp-epoll")
		l.rc, err = l.file.SyscallConn()
	}
	if err == nil {
		err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(wake)})
	}
	if err != nil {
		l.closeFDs()
		return nil, err
	}
	l.pollFn = l.poll
	return l, nil
}

// loopTick is how often a loop checks ACK and frame deadlines: 1/8 of the
// shorter timeout, so a backend gets between 1 and 1.125 ACK timeouts (as
// the goroutine session's lazily re-armed deadline).
func loopTick(o Options) time.Duration {
	return max(min(o.AckTimeout, o.FrameTimeout)/ackSlackDiv, time.Millisecond)
}

func (l *eventLoop) closeFDs() {
	if l.file != nil {
		_ = l.file.Close()
	} else {
		_ = unix.Close(l.epfd)
	}
	_ = unix.Close(l.wakeFD)
}

// post queues a message for the loop; false if the loop has stopped.
func (l *eventLoop) post(m loopMsg) bool {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return false
	}
	first := len(l.inbox) == 0
	l.inbox = append(l.inbox, m)
	l.mu.Unlock()
	if first {
		one := [8]byte{1}
		_, _, _ = syscall.RawSyscall(syscall.SYS_WRITE, uintptr(l.wakeFD), uintptr(unsafe.Pointer(&one[0])), 8)
	}
	return true
}

func (l *eventLoop) run() {
	for !l.stop {
		l.arm()
		err := l.rc.Read(l.pollFn)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			l.armed = time.Time{}
			l.sweep(time.Now())
			l.maybeStop()
		} else if err != nil {
			l.p.log.Error("event loop poll failed, closing its connections", "error", err.Error())
			l.closeAll()
			l.stop = true
		}
	}
	l.mu.Lock()
	l.stopped = true
	rest := l.inbox
	l.inbox = nil
	l.mu.Unlock()
	for _, m := range rest {
		l.orphan(m)
	}
	l.closeFDs()
}

// orphan disposes of a message that reached a stopped loop.
func (l *eventLoop) orphan(m loopMsg) {
	switch m.op {
	case opAdd:
		_ = unix.Close(m.s.cr.fd)
		l.p.wg.Done()
	case opDialed:
		l.dialed(m)
	case opForceClose:
		m.reply <- 0
	}
}

// arm keeps a deadline on the epoll file while sessions exist, so that the
// poll returns every tick to check timeouts (an expired deadline must be
// replaced before the next poll).
func (l *eventLoop) arm() {
	if !l.armed.IsZero() {
		return
	}
	if len(l.live) == 0 {
		_ = l.file.SetReadDeadline(time.Time{})
		return
	}
	l.armed = time.Now().Add(l.tick)
	_ = l.file.SetReadDeadline(l.armed)
}

// poll runs inside Go's poller: it drains the epoll instance without
// blocking and returns false to park until the epoll descriptor is
// readable again (true ends the poll: the loop stops or must re-arm).
func (l *eventLoop) poll(uintptr) bool {
	for {
		r, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(l.epfd), uintptr(unsafe.Pointer(&l.events[0])),
			uintptr(len(l.events)), 0, 0, 0)
		n := int(r)
		if e != 0 {
			n = 0
		}
		for i := range n {
			l.dispatch(l.events[i].Fd, l.events[i].Events)
		}
		if l.stop || (l.armed.IsZero() && len(l.live) > 0) {
			return true
		}
		if n < len(l.events) && e != syscall.EINTR {
			return false
		}
	}
}

func (l *eventLoop) dispatch(fd int32, ev uint32) {
	if int(fd) == l.wakeFD {
		l.receive()
		return
	}
	if int(fd) >= len(l.slots) {
		return
	}
	sl := l.slots[fd]
	if sl.s == nil {
		return
	}
	if sl.u != nil {
		sl.u.ev.r.event(ev)
	} else {
		sl.s.cr.event(ev)
	}
	sl.s.step()
}

// receive handles the inbox.
func (l *eventLoop) receive() {
	var b [8]byte
	_, _, _ = syscall.RawSyscall(syscall.SYS_READ, uintptr(l.wakeFD), uintptr(unsafe.Pointer(&b[0])), 8)
	l.mu.Lock()
	msgs := l.inbox
	l.inbox = l.spare[:0]
	l.mu.Unlock()
	for i, m := range msgs {
		switch m.op {
		case opAdd:
			l.add(m.s)
		case opDialed:
			l.dialed(m)
		case opDrain:
			l.drainIdle()
		case opForceClose:
			m.reply <- l.closeAll()
		}
		msgs[i] = loopMsg{}
	}
	l.spare = msgs
	l.maybeStop()
}

func (l *eventLoop) add(s *evSession) {
	if err := l.watch(s.cr.fd, slot{s: s}); err != nil {
		l.p.log.Warn("cannot watch client socket, closing", "remote", s.remote, "error", err.Error())
		_ = unix.Close(s.cr.fd)
		l.p.wg.Done()
		return
	}
	l.live[s] = struct{}{}
	s.opened()
	if l.p.draining.Load() {
		s.close()
	}
}

// watch registers fd (edge-triggered, read and write readiness).
func (l *eventLoop) watch(fd int, sl slot) error {
	if fd >= len(l.slots) {
		l.slots = append(l.slots, make([]slot, fd+1-len(l.slots)+16)...)
	}
	l.slots[fd] = sl
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.slots[fd] = slot{}
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// forget clears fd's slot (its descriptor is closed by the caller).
func (l *eventLoop) forget(fd int) {
	if fd >= 0 && fd < len(l.slots) {
		l.slots[fd] = slot{}
	}
}

func (l *eventLoop) dialed(m loopMsg) {
	l.dials--
	m.s.dialed(m.u, m.kind)
}

func (l *eventLoop) drainIdle() {
	for s := range l.live {
		if s.state == stIdle {
			s.close()
		}
	}
}

func (l *eventLoop) closeAll() int {
	n := len(l.live)
	for s := range l.live {
		s.close()
	}
	return n
}

// sweep applies the ACK and frame timeouts.
func (l *eventLoop) sweep(now time.Time) {
	for s := range l.live {
		s.checkTimeouts(now)
	}
}

// maybeStop ends the loop once the proxy drains and nothing is left.
func (l *eventLoop) maybeStop() {
	if l.p.draining.Load() && len(l.live) == 0 && l.dials == 0 {
		l.stop = true
	}
}
