// Package generator is the demo's HL7 traffic: several senders (one MLLP
// connection each, its own sending facility MSH-4 and its own patients),
// closed loop (one message in flight per connection, as MLLP senders work),
// at a fixed total rate. It logs every message it sends and every ACK it
// gets. When a connection fails before the ACK, it reconnects and resends
// the same message (same MSH-10), as a real sender does, so a message is
// never dropped by the generator; the summary counts any resulting duplicate.
package generator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nerve-rollouts/nerve/hack/demo/eventlog"
	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
)

// Config is the traffic shape.
type Config struct {
	// Addr is the proxy's MLLP address (127.0.0.1 only).
	Addr string
	// Senders is the number of sending facilities / connections.
	Senders int
	// Patients is the number of synthetic patients, split across senders.
	Patients int
	// Rate is the total messages per second over all senders.
	Rate float64
	// RunID makes control ids unique across runs.
	RunID string
	// AckTimeout bounds the wait for one ACK (default 5s).
	AckTimeout time.Duration
	// Drain bounds how long the current messages may still be delivered
	// after ctx ends (default 15s).
	Drain time.Duration
}

func (c Config) withDefaults() Config {
	if c.Senders <= 0 {
		c.Senders = 4
	}
	if c.Patients < c.Senders {
		c.Patients = c.Senders
	}
	if c.Rate <= 0 {
		c.Rate = 100
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 5 * time.Second
	}
	if c.Drain <= 0 {
		c.Drain = 15 * time.Second
	}
	return c
}

// messageTypes is the traffic mix a sender cycles through.
func messageTypes() []string {
	return []string{"ADT^A01", "ADT^A08", "ORU^R01", "ADT^A08", "ORU^R01", "ADT^A03"}
}

// Run sends until ctx ends, then lets every sender finish its current
// message (bounded by cfg.Drain) and returns.
func Run(ctx context.Context, cfg Config, log *eventlog.Writer) error {
	cfg = cfg.withDefaults()
	hard, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(cfg.Drain, cancel) })
	defer stop()
	var wg sync.WaitGroup
	errs := make([]error, cfg.Senders)
	for i := range cfg.Senders {
		s := newSender(cfg, i, log)
		wg.Go(func() { errs[i] = s.run(ctx, hard) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

type sender struct {
	cfg    Config
	idx    int
	log    *eventlog.Writer
	seq    map[int]int64
	n      int64
	gen    *mllptest.Generator
	client *mllptest.Client
}

// newSender returns sender i; its messages are synthetic (mllptest.Generator).
func newSender(cfg Config, i int, log *eventlog.Writer) *sender {
	gen := mllptest.NewGenerator(mllptest.GenOptions{Seed: uint64(i), Patients: cfg.Patients, App: "NERVE-DEMO"})
	return &sender{cfg: cfg, idx: i, log: log, seq: map[int]int64{}, gen: gen}
}

func (s *sender) name() string { return fmt.Sprintf("FAC%d", s.idx+1) }

// patients returns this sender's patient numbers.
func (s *sender) patients() []int {
	var out []int
	for p := s.idx; p < s.cfg.Patients; p += s.cfg.Senders {
		out = append(out, p)
	}
	return out
}

func (s *sender) run(ctx, hard context.Context) error {
	defer s.close()
	every := time.Duration(float64(time.Second) * float64(s.cfg.Senders) / s.cfg.Rate)
	tick := time.NewTicker(every)
	defer tick.Stop()
	pats := s.patients()
	types := messageTypes()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		// Stride through the patients so consecutive messages hit different ones.
		p := pats[(i*7919)%len(pats)]
		s.seq[p]++
		s.n++
		m := s.gen.Render(types[i%len(types)], s.name(), fmt.Sprintf("%s-%d-%08d", s.cfg.RunID, s.idx+1, s.n), p)
		if err := s.deliver(hard, m, s.seq[p]); err != nil {
			return err
		}
	}
}

// deliver sends m until it is ACKed, resending after connection failures,
// until hard ends (then the message stays unACKed and the summary shows it).
func (s *sender) deliver(hard context.Context, m mllptest.Message, seq int64) error {
	ev := eventlog.Event{ID: mllptest.Key(m.ControlID), Patient: mllptest.Key(m.Patient), Seq: seq, Sender: s.name()}
	for try := 1; hard.Err() == nil; try++ {
		code, err := s.attempt(hard, m.Payload, ev, try)
		if err == nil {
			return s.log.Log(eventlog.Event{Kind: eventlog.KindAck, ID: ev.ID, Sender: ev.Sender, Code: code})
		}
		s.close()
		if lerr := s.log.Log(eventlog.Event{Kind: eventlog.KindConnError, ID: ev.ID, Sender: ev.Sender, Try: try, Detail: err.Error()}); lerr != nil {
			return lerr
		}
		select {
		case <-hard.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// attempt sends the message once on a (re)connected connection and waits
// for its ACK (MSA-2 = MSH-10, checked by the client).
func (s *sender) attempt(ctx context.Context, body []byte, ev eventlog.Event, try int) (string, error) {
	if s.client == nil {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		c, err := mllptest.DialContext(dctx, s.cfg.Addr, nil)
		cancel()
		if err != nil {
			return "", err
		}
		c.Timeout = s.cfg.AckTimeout
		s.client = c
	}
	ev.Kind, ev.Try = eventlog.KindSend, try
	if err := s.log.Log(ev); err != nil {
		return "", err
	}
	_, code, err := s.client.Send(body)
	if err != nil {
		return "", fmt.Errorf("send: %w", err)
	}
	return code, nil
}

func (s *sender) close() {
	if s.client != nil {
		_ = s.client.Close()
		s.client = nil
	}
}
