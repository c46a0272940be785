package mllptest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nerve-rollouts/nerve/router/mllp/codec"
)

// BackendOptions configure a Backend.
type BackendOptions struct {
	// Name is recorded with every message (e.g. "stable", "canary", "shadow").
	Name string
	// Addr to listen on (default 127.0.0.1:0).
	Addr string
	// Delay is added before every ACK.
	Delay time.Duration
	// ErrorRate in [0,1] answers that share of messages with AE instead of AA.
	ErrorRate float64
	// Seed for the error draw.
	Seed uint64
	// Record keeps a Record per received message (memory grows with traffic).
	Record bool
	// NoACK makes the backend swallow messages without answering (timeout tests).
	NoACK bool
	// WrongControlID answers with a mismatching MSA-2 (mismatch tests).
	WrongControlID bool
	// CommitFirst sends an enhanced-mode accept ACK (CA) before the AA when the
	// message asks for both (MSH-15 and MSH-16 set).
	CommitFirst bool
}

// Record is what a Backend remembers about one message; it holds no PHI:
// KeyHash is Key(PID-3 CX.1) (or "" without PID).
type Record struct {
	Backend   string
	ControlID string // synthetic in tests; never log real ones
	KeyHash   string
	// PayloadHash is a truncated SHA-256 of the exact payload bytes (byte-transparency checks).
	PayloadHash string
	Type        string
	Conn        int // backend-side connection number
	Seq         int // position on that connection
	At          time.Time
}

// Backend is an MLLP ACK server.
type Backend struct {
	opts     BackendOptions
	ln       net.Listener
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	records  []Record
	count    atomic.Int64
	connSeq  atomic.Int64
	wg       sync.WaitGroup
	closed   atomic.Bool
	rngMu    sync.Mutex
	rng      *rand.Rand
	ackSeq   atomic.Uint64
	errCount atomic.Int64
}

// NewBackend starts a backend listening on opts.Addr.
func NewBackend(opts BackendOptions) (*Backend, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("backend %s listen: %w", opts.Name, err)
	}
	b := &Backend{opts: opts, ln: ln, conns: map[net.Conn]struct{}{},
		rng: rand.New(rand.NewPCG(opts.Seed, 1))}
	b.wg.Add(1)
	go b.accept()
	return b, nil
}

// Addr returns the listen address (127.0.0.1:port).
func (b *Backend) Addr() string { return b.ln.Addr().String() }

// Count returns the number of messages received (also without Record).
func (b *Backend) Count() int64 { return b.count.Load() }

// Errors returns how many AE answers were sent.
func (b *Backend) Errors() int64 { return b.errCount.Load() }

// Records returns a copy of the recorded messages.
func (b *Backend) Records() []Record {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Record(nil), b.records...)
}

// Close stops listening and closes all connections (like a killed pod).
func (b *Backend) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	err := b.ln.Close()
	b.mu.Lock()
	for c := range b.conns {
		_ = c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
	return err
}

func (b *Backend) accept() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		if b.closed.Load() {
			b.mu.Unlock()
			_ = c.Close()
			return
		}
		b.conns[c] = struct{}{}
		b.mu.Unlock()
		b.wg.Add(1)
		go b.serve(c, int(b.connSeq.Add(1)))
	}
}

func (b *Backend) serve(c net.Conn, connID int) {
	defer b.wg.Done()
	defer func() {
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
		_ = c.Close()
	}()
	d := codec.NewDecoder(c, codec.Options{})
	out := make([]byte, 0, 512)
	for seq := 1; ; seq++ {
		f, err := d.Next()
		if err != nil {
			return
		}
		if f.Kind != codec.KindMessage {
			continue
		}
		out, err = b.handle(f.Payload, out[:0], connID, seq)
		if err != nil || len(out) == 0 {
			continue
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// handle records the message and appends the framed answer(s) to out.
func (b *Backend) handle(p, out []byte, connID, seq int) ([]byte, error) {
	h, err := codec.ParseHeader(p, b.opts.Record)
	if err != nil {
		return out, errors.New("not HL7")
	}
	b.count.Add(1)
	if b.opts.Record {
		b.record(h, p, connID, seq)
	}
	if b.opts.NoACK {
		return out, nil
	}
	if b.opts.Delay > 0 {
		time.Sleep(b.opts.Delay)
	}
	ctl := h.ControlID
	if b.opts.WrongControlID {
		ctl = append([]byte("WRONG"), ctl...)
	}
	if b.opts.CommitFirst && len(h.AcceptAckType) > 0 && len(h.AppAckType) > 0 {
		out = AppendACK(out, h, ctl, "CA", b.ackSeq.Add(1))
	}
	return AppendACK(out, h, ctl, b.code(), b.ackSeq.Add(1)), nil
}

func (b *Backend) code() string {
	if b.opts.ErrorRate <= 0 {
		return "AA"
	}
	b.rngMu.Lock()
	bad := b.rng.Float64() < b.opts.ErrorRate
	b.rngMu.Unlock()
	if bad {
		b.errCount.Add(1)
		return "AE"
	}
	return "AA"
}

func (b *Backend) record(h codec.Header, payload []byte, connID, seq int) {
	ph := sha256.Sum256(payload)
	r := Record{Backend: b.opts.Name, ControlID: string(h.ControlID), Type: string(h.MessageType),
		Conn: connID, Seq: seq, At: time.Now(), PayloadHash: hex.EncodeToString(ph[:8])}
	if h.HasPID {
		r.KeyHash = Key(string(h.PatientID))
	}
	b.mu.Lock()
	b.records = append(b.records, r)
	b.mu.Unlock()
}
