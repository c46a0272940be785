// Package listener is the demo's MLLP backend: one process per Ready pod of
// the mllp-listener Rollout. It answers every HL7 message with a real ACK
// (MSA-1 AA, or AE for the configured error share; MSA-2 = MSH-10) after the
// pod template's ACK delay, and logs every message it received (hashed
// message and patient keys, pod and pod-template hash; no PHI) before it
// answers, so an ACKed message is always in a listener's log.
package listener

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nerve-rollouts/nerve/hack/demo/eventlog"
	"github.com/nerve-rollouts/nerve/router/mllp/codec"
	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
)

// Config is a listener's behaviour, taken from its pod.
type Config struct {
	Pod, Hash, Version string
	// AckDelay is added before every ACK (NERVE_DEMO_ACK_DELAY_MS).
	AckDelay time.Duration
	// ErrorRate is the share of messages answered AE (NERVE_DEMO_ERROR_RATE), 0..1.
	ErrorRate float64
}

// Server serves MLLP on one listener.
type Server struct {
	cfg Config
	log *eventlog.Writer

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
	ackSeq atomic.Uint64
}

// New returns a server that logs to log.
func New(cfg Config, log *eventlog.Writer) *Server {
	return &Server{cfg: cfg, log: log, conns: map[net.Conn]struct{}{}}
}

// Serve accepts connections until ctx ends, then stops accepting, lets each
// connection finish the message it is answering, closes them and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() {
		_ = ln.Close()
		s.unblockReads()
	})
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		s.track(c, true)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.track(c, false)
			s.handle(ctx, c)
		}()
	}
}

func (s *Server) track(c net.Conn, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		s.conns[c] = struct{}{}
		return
	}
	delete(s.conns, c)
	_ = c.Close()
}

// unblockReads makes every connection's pending read return now.
func (s *Server) unblockReads() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.SetReadDeadline(time.Now())
	}
}

func (s *Server) handle(ctx context.Context, c net.Conn) {
	d := codec.NewDecoder(c, codec.Options{})
	for ctx.Err() == nil {
		f, err := d.Next()
		if err != nil {
			return
		}
		if f.Kind != codec.KindMessage {
			continue
		}
		if err := s.answer(c, f.Payload); err != nil {
			return
		}
	}
}

// answer logs msg and writes its ACK. Frames without MSH-10 get no ACK.
func (s *Server) answer(c net.Conn, msg []byte) error {
	h, err := codec.ParseHeader(msg, true)
	if err != nil || len(h.ControlID) == 0 {
		return nil
	}
	id := string(h.ControlID)
	err = s.log.Log(eventlog.Event{
		Kind: eventlog.KindRecv, ID: mllptest.Key(id), Patient: mllptest.Key(string(h.PatientID)),
		Pod: s.cfg.Pod, Hash: s.cfg.Hash, Version: s.cfg.Version,
	})
	if err != nil {
		return errors.Join(errors.New("log"), err)
	}
	if s.cfg.AckDelay > 0 {
		time.Sleep(s.cfg.AckDelay)
	}
	code := "AA"
	if errorShare(id) < s.cfg.ErrorRate {
		code = "AE"
	}
	_, err = c.Write(mllptest.AppendACK(nil, h, h.ControlID, code, s.ackSeq.Add(1)))
	return err
}

// errorShare maps a control id to [0,1) deterministically.
func errorShare(id string) float64 {
	sum := sha256.Sum256([]byte(id))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / float64(1<<53)
}
