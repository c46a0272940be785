package listener

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/hack/demo/eventlog"
	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
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

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAnswersAndLogs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuf
	ctx, cancel := context.WithCancel(t.Context())
	srv := New(Config{Pod: "p0", Hash: "h1", Version: "v1", AckDelay: time.Millisecond}, eventlog.NewWriter(&logs))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	c, err := mllptest.Dial(ln.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	gen := mllptest.NewGenerator(mllptest.GenOptions{})
	for i := range 3 {
		m := gen.Render("ADT^A01", "F", fmt.Sprintf("C%03d", i), 1)
		if _, code, err := c.Send(m.Payload); err != nil || code != "AA" {
			t.Fatalf("message %d: code %q, %v", i, code, err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	n := 0
	if err := eventlog.Read(strings.NewReader(logs.String()), func(ev eventlog.Event) {
		if ev.Kind != eventlog.KindRecv || ev.Pod != "p0" || ev.Hash != "h1" || ev.ID != mllptest.Key(fmt.Sprintf("C%03d", n)) || ev.Patient != mllptest.Key("P0000001") {
			t.Errorf("event %+v", ev)
		}
		n++
	}); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("logged %d", n)
	}
	if strings.Contains(logs.String(), "P0000001") || strings.Contains(logs.String(), "C001") {
		t.Fatal("log holds raw identifiers")
	}
}

func TestErrorShare(t *testing.T) {
	ae := 0
	for i := range 10000 {
		if errorShare(fmt.Sprint(i)) < 0.1 {
			ae++
		}
	}
	if ae < 900 || ae > 1100 {
		t.Fatalf("share %d/10000", ae)
	}
}
