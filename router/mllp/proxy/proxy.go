package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nerve-rollouts/nerve/router/mllp/codec"
)

// Options configure a Proxy.
type Options struct {
	AckTimeout   time.Duration // wait for a backend ACK (default 10 s)
	FrameTimeout time.Duration // a started client frame must complete within (default 60 s)
	DialTimeout  time.Duration // upstream connect (default 2 s)
	MaxFrame     int           // payload cap (default codec.DefaultMaxFrame)
	Lenient      bool          // accept FS without CR from clients
	// EventLoops > 0 serves plain-TCP clients (Linux) on that many epoll event loops instead of
	// a goroutine per session; 0 (the default) keeps the goroutine engine, which measured more
	// messages per second at one sender and the same at 8-32 on 2 cores (README, bench-mllp).
	EventLoops int
	Logger     *slog.Logger
	Metrics    *Metrics
}

// Proxy is the MLLP message-level router.
type Proxy struct {
	opts     Options
	log      *slog.Logger
	state    atomic.Pointer[routeState]
	mu       sync.Mutex
	sessions map[*session]struct{}
	loops    loopGroup // plain-TCP connections (Linux), guarded by mu
	lns      []net.Listener
	wg       sync.WaitGroup
	draining atomic.Bool
	counts   [2]atomic.Int64
	mirrored atomic.Int64
	rr       atomic.Uint64
	connSeq  atomic.Uint64
	// appliedCh is closed and replaced by every Apply (wakes WaitApplied).
	appliedMu sync.Mutex
	appliedCh chan struct{}
}

// New returns a proxy with no route; Apply one before traffic can flow.
func New(opts Options) (*Proxy, error) {
	if opts.Metrics == nil {
		return nil, errors.New("proxy: Options.Metrics is required")
	}
	if opts.EventLoops < 0 {
		return nil, fmt.Errorf("proxy: --event-loops %d: want 0 (a goroutine per session) or a positive number of loops", opts.EventLoops)
	}
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = 10 * time.Second
	}
	if opts.FrameTimeout <= 0 {
		opts.FrameTimeout = 60 * time.Second
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 2 * time.Second
	}
	if opts.MaxFrame <= 0 {
		opts.MaxFrame = codec.DefaultMaxFrame
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Proxy{opts: opts, log: opts.Logger, sessions: map[*session]struct{}{}, appliedCh: make(chan struct{})}, nil
}

// Apply compiles cfg and makes it the routing snapshot for every following
// decision (atomically). It returns the problems that make the replica not ready.
func (p *Proxy) Apply(cfg RouteConfig) ([]string, error) {
	rs, err := compile(cfg, p.opts.Metrics)
	if err != nil {
		return nil, err
	}
	old := p.state.Swap(rs)
	pct := float64(rs.threshold) / 100
	p.opts.Metrics.setRoute(cfg.Service, pct, cfg.Generation, len(cfg.Stable), len(cfg.Canary))
	if old == nil || old.describe() != rs.describe() {
		p.log.Info("route applied", "route", rs.describe())
	}
	p.appliedMu.Lock()
	close(p.appliedCh)
	p.appliedCh = make(chan struct{})
	p.appliedMu.Unlock()
	return rs.problems, nil
}

// AppliedRoute is what a replica routes with now (no PHI, no facility strings).
type AppliedRoute struct {
	Service    string `json:"service"`
	Generation int64  `json:"generation"`
	Weight     int32  `json:"weight"`
	MaxWeight  int32  `json:"maxWeight"`
	Ready      bool   `json:"ready"`
}

// Applied returns the routing snapshot in use; ok is false before the first Apply.
func (p *Proxy) Applied() (AppliedRoute, bool) {
	rs := p.state.Load()
	if rs == nil {
		return AppliedRoute{}, false
	}
	return AppliedRoute{Service: rs.cfg.Service, Generation: rs.cfg.Generation, Weight: rs.cfg.Weight,
		MaxWeight: maxWeight(rs.cfg.MaxWeight), Ready: rs.ready()}, true
}

// WaitApplied returns the applied route as soon as its generation is above
// after (at once if it already is), or the current one when ctx ends.
func (p *Proxy) WaitApplied(ctx context.Context, after int64) (AppliedRoute, bool) {
	for {
		p.appliedMu.Lock()
		ch := p.appliedCh
		p.appliedMu.Unlock()
		ar, ok := p.Applied()
		if ok && ar.Generation > after {
			return ar, true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ar, ok
		}
	}
}

// Ready reports whether a route is applied and fully valid.
func (p *Proxy) Ready() bool {
	rs := p.state.Load()
	return rs != nil && rs.ready()
}

// Counts returns the cumulative messages routed to stable and canary and the mirrored copies.
func (p *Proxy) Counts() (stable, canary, mirrored int64) {
	return p.counts[idxStable].Load(), p.counts[idxCanary].Load(), p.mirrored.Load()
}

// Serve accepts client connections on ln until it is closed or Drain is called.
func (p *Proxy) Serve(ln net.Listener) error {
	p.mu.Lock()
	if p.draining.Load() {
		p.mu.Unlock()
		return ln.Close()
	}
	p.lns = append(p.lns, ln)
	p.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			if p.draining.Load() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		p.start(c)
	}
}

func (p *Proxy) start(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		if p.opts.EventLoops > 0 && p.adopt(tc) {
			return
		}
	}
	s := newSession(p, fastConn(c))
	p.mu.Lock()
	if p.draining.Load() {
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	p.sessions[s] = struct{}{}
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		s.run()
		p.mu.Lock()
		delete(p.sessions, s)
		p.mu.Unlock()
	}()
}

// Drain stops accepting, lets every connection finish its in-flight message,
// then closes it; connections still busy when ctx ends are closed forcibly.
func (p *Proxy) Drain(ctx context.Context) error {
	p.mu.Lock()
	p.draining.Store(true)
	for _, ln := range p.lns {
		_ = ln.Close()
	}
	for s := range p.sessions {
		s.interrupt()
	}
	p.loops.drain()
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	n := len(p.sessions)
	for s := range p.sessions {
		s.forceClose()
	}
	p.mu.Unlock()
	n += p.loops.forceClose()
	<-done
	return fmt.Errorf("drain timeout: %d connections closed forcibly", n)
}
