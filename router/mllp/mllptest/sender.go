package mllptest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// SenderOptions configure RunSenders.
type SenderOptions struct {
	Addr    string
	TLS     *tls.Config
	Senders int // parallel closed-loop connections (default 1)
	// Messages per sender (0: until Duration or ctx ends).
	Messages int
	Duration time.Duration
	// Warmup excludes the first part of the run from latencies and counts.
	Warmup time.Duration
	// Gen configures each sender's generator; sender i uses Seed+i and IDPrefix "S<i>-".
	Gen GenOptions
	// Pool pre-generates this many messages per sender and cycles them (fast,
	// for benchmarks; control ids repeat). 0 generates every message.
	Pool int
	// Reconnect after a failed exchange (the message is resent: at-least-once).
	Reconnect bool
	// Logger receives one summary line per sender (nil: silent). No PHI is logged.
	Logger *slog.Logger
}

// Result summarises a run.
type Result struct {
	Sent, Acked, Errors, NAKs int64
	// AckedIDs lists the control ids of every ACKed message (only without Pool).
	AckedIDs  []string
	Latencies []time.Duration // per acked message after warm-up
	Elapsed   time.Duration   // measured part of the run
}

// Rate returns acked messages per second over the measured part.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Acked) / r.Elapsed.Seconds()
}

// Quantile returns the q-quantile latency (sorts Latencies once).
func (r *Result) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	if !slices.IsSorted(r.Latencies) {
		slices.Sort(r.Latencies)
	}
	i := int(q * float64(len(r.Latencies)-1))
	return r.Latencies[i]
}

// RunSenders runs opts.Senders closed-loop senders and merges their results.
func RunSenders(ctx context.Context, opts SenderOptions) (*Result, error) {
	if opts.Senders <= 0 {
		opts.Senders = 1
	}
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Duration)
		defer cancel()
	}
	start := time.Now()
	measureFrom := start.Add(opts.Warmup)
	results := make([]*Result, opts.Senders)
	errs := make([]error, opts.Senders)
	var wg sync.WaitGroup
	for i := range opts.Senders {
		wg.Go(func() { results[i], errs[i] = runSender(ctx, opts, i, measureFrom) })
	}
	wg.Wait()
	total := &Result{Elapsed: time.Since(measureFrom)}
	for _, r := range results {
		total.Sent += r.Sent
		total.Acked += r.Acked
		total.Errors += r.Errors
		total.NAKs += r.NAKs
		total.AckedIDs = append(total.AckedIDs, r.AckedIDs...)
		total.Latencies = append(total.Latencies, r.Latencies...)
	}
	return total, errors.Join(errs...)
}

type sender struct {
	opts   SenderOptions
	gen    *Generator
	pool   []Message
	next   int
	client *Client
	res    *Result
}

func runSender(ctx context.Context, opts SenderOptions, i int, measureFrom time.Time) (*Result, error) {
	g := opts.Gen
	g.Seed += uint64(i)
	g.IDPrefix = fmt.Sprintf("%sS%d-", opts.Gen.IDPrefix, i)
	s := &sender{opts: opts, gen: NewGenerator(g), res: &Result{}}
	for range opts.Pool {
		s.pool = append(s.pool, s.gen.Next())
	}
	defer s.close()
	err := s.loop(ctx, measureFrom)
	if opts.Logger != nil {
		opts.Logger.Info("sender done", "sender", i, "sent", s.res.Sent, "acked", s.res.Acked, "errors", s.res.Errors)
	}
	return s.res, err
}

func (s *sender) message() Message {
	if len(s.pool) == 0 {
		return s.gen.Next()
	}
	m := s.pool[s.next%len(s.pool)]
	s.next++
	return m
}

func (s *sender) close() {
	if s.client != nil {
		_ = s.client.Close()
	}
}

func (s *sender) loop(ctx context.Context, measureFrom time.Time) error {
	var m Message
	resend := false
	for n := 0; s.opts.Messages == 0 || n < s.opts.Messages; {
		if ctx.Err() != nil {
			return nil
		}
		if !resend {
			m = s.message()
		}
		ok, err := s.exchange(m, measureFrom)
		if err != nil && !s.opts.Reconnect {
			return err
		}
		resend = !ok
		if ok {
			n++
		}
	}
	return nil
}

// exchange sends one message; ok reports it was ACKed (any code).
func (s *sender) exchange(m Message, measureFrom time.Time) (bool, error) {
	if s.client == nil {
		c, err := Dial(s.opts.Addr, s.opts.TLS)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			return false, err
		}
		s.client = c
	}
	t0 := time.Now()
	s.res.Sent++
	_, code, err := s.client.Send(m.Payload)
	if err != nil {
		s.res.Errors++
		s.close()
		s.client = nil
		return false, err
	}
	if t0.After(measureFrom) {
		s.res.Acked++
		s.res.Latencies = append(s.res.Latencies, time.Since(t0))
	} else {
		s.res.Sent--
	}
	if len(s.pool) == 0 {
		s.res.AckedIDs = append(s.res.AckedIDs, m.ControlID)
	}
	if code != "AA" && code != "CA" {
		s.res.NAKs++
	}
	return true, nil
}
