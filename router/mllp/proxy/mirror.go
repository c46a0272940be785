package proxy

// mirrorWorker sends copies to the shadow backend off the client's path and
// discards the answers.
type mirrorWorker struct {
	ch   chan []byte
	done chan struct{}
}

const mirrorQueue = 64

// mirrorCopy queues a copy of frame for the shadow backend (dropped when the queue is full).
func (c *core) mirrorCopy(rs *routeState, frame []byte) {
	if c.mirror == nil {
		c.mirror = &mirrorWorker{ch: make(chan []byte, mirrorQueue), done: make(chan struct{})}
		go c.mirror.run(c.p, rs)
	}
	select {
	case c.mirror.ch <- append([]byte(nil), frame...):
	default:
		rs.m.mirror["dropped"].Inc()
	}
}

func (w *mirrorWorker) stop() {
	close(w.ch)
	<-w.done
}

func (w *mirrorWorker) run(p *Proxy, rs *routeState) {
	defer close(w.done)
	var u *upstream
	defer func() {
		if u != nil {
			u.close()
		}
	}()
	for frame := range w.ch {
		cur := p.state.Load()
		if cur.mirror == nil {
			rs.m.mirror["dropped"].Inc()
			continue
		}
		if u != nil && !cur.mirror.has(u.addr) {
			u.close()
			u = nil
		}
		var ok bool
		u, ok = mirrorOne(p, cur, u, frame)
		if !ok {
			cur.m.mirror["error"].Inc()
			continue
		}
		p.mirrored.Add(1)
		cur.m.mirror["sent"].Inc()
	}
}

// mirrorOne sends one copy and waits for (and discards) the answer.
func mirrorOne(p *Proxy, rs *routeState, u *upstream, frame []byte) (*upstream, bool) {
	if u == nil {
		addr := rs.mirror.addrs[p.rr.Add(1)%uint64(len(rs.mirror.addrs))]
		var err error
		if u, err = dialUpstream(addr, p.opts.DialTimeout, rs.m, false); err != nil {
			return nil, false
		}
	}
	if err := u.send(frame, p.opts.AckTimeout); err != nil {
		u.close()
		return nil, false
	}
	if _, err := u.receive(); err != nil {
		u.close()
		return nil, false
	}
	return u, true
}
