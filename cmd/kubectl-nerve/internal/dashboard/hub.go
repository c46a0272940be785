package dashboard

import "sync"

// Change says that an object of Kind (a resource: "rollouts", "pods", ...) in Namespace changed.
type Change struct {
	Namespace, Kind string
}

// hub fans changes out to the live pages: each subscriber gets a signal (coalesced, never
// blocking the publisher) when a change it matches arrives.
type hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	match func(Change) bool
	ch    chan struct{}
}

func newHub() *hub { return &hub{subs: map[*subscriber]struct{}{}} }

// subscribe registers match; the caller reads the channel and calls cancel when done.
func (h *hub) subscribe(match func(Change) bool) (<-chan struct{}, func()) {
	s := &subscriber{match: match, ch: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s.ch, func() {
		h.mu.Lock()
		delete(h.subs, s)
		h.mu.Unlock()
	}
}

// publish signals every subscriber that matches c.
func (h *hub) publish(c Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if !s.match(c) {
			continue
		}
		select {
		case s.ch <- struct{}{}:
		default:
		}
	}
}
