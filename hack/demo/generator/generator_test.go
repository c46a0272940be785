package generator

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/hack/demo/eventlog"
	"github.com/nerve-rollouts/nerve/hack/demo/listener"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func TestGeneratorAgainstListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var rlog, glog syncBuf
	lctx, lcancel := context.WithCancel(t.Context())
	srv := listener.New(listener.Config{Pod: "p", Hash: "h"}, eventlog.NewWriter(&rlog))
	ldone := make(chan error, 1)
	go func() { ldone <- srv.Serve(lctx, ln) }()

	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	cfg := Config{Addr: ln.Addr().String(), Senders: 3, Patients: 30, Rate: 300, RunID: "t"}
	if err := Run(ctx, cfg, eventlog.NewWriter(&glog)); err != nil {
		t.Fatal(err)
	}
	lcancel()
	if err := <-ldone; err != nil {
		t.Fatal(err)
	}
	sent, acked := map[string]bool{}, map[string]bool{}
	lastSeq := map[string]int64{}
	if err := eventlog.Read(bytes.NewReader(glog.b.Bytes()), func(ev eventlog.Event) {
		switch ev.Kind {
		case eventlog.KindSend:
			sent[ev.ID] = true
			if ev.Seq != lastSeq[ev.Patient]+1 {
				t.Errorf("patient seq %d after %d", ev.Seq, lastSeq[ev.Patient])
			}
			lastSeq[ev.Patient] = ev.Seq
		case eventlog.KindAck:
			if ev.Code != "AA" {
				t.Errorf("code %s", ev.Code)
			}
			acked[ev.ID] = true
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(sent) < 50 || len(sent) != len(acked) {
		t.Fatalf("sent %d acked %d", len(sent), len(acked))
	}
	recv := 0
	_ = eventlog.Read(bytes.NewReader(rlog.b.Bytes()), func(eventlog.Event) { recv++ })
	if recv != len(sent) {
		t.Fatalf("received %d of %d", recv, len(sent))
	}
}

func TestResendAfterConnectionLoss(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	// The first connection is closed without an ACK; then a real listener takes over.
	go func() {
		c, err := ln.Accept()
		if err == nil {
			buf := make([]byte, 4096)
			_, _ = c.Read(buf)
			_ = c.Close()
		}
		_ = ln.Close()
	}()
	var glog, rlog syncBuf
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Addr: addr, Senders: 1, Patients: 1, Rate: 20, RunID: "r"}, eventlog.NewWriter(&glog))
	}()
	time.Sleep(150 * time.Millisecond)
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	lctx, lcancel := context.WithCancel(t.Context())
	go func() { _ = listener.New(listener.Config{Pod: "p"}, eventlog.NewWriter(&rlog)).Serve(lctx, ln2) }()
	time.Sleep(300 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lcancel()
	var resent, connErrs, acks int
	_ = eventlog.Read(bytes.NewReader(glog.b.Bytes()), func(ev eventlog.Event) {
		switch {
		case ev.Kind == eventlog.KindSend && ev.Try > 1:
			resent++
		case ev.Kind == eventlog.KindConnError:
			connErrs++
		case ev.Kind == eventlog.KindAck:
			acks++
		}
	})
	if connErrs == 0 || resent == 0 || acks == 0 {
		t.Fatalf("connerr=%d resent=%d acks=%d\n%s", connErrs, resent, acks, glog.b.String())
	}
}
