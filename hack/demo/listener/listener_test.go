package listener

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/hack/demo/eventlog"
	"github.com/nerve-rollouts/nerve/hack/demo/mllpmsg"
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

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	for i := range 3 {
		id := fmt.Sprintf("C%03d", i)
		m := mllpmsg.Message{SendingFacility: "F", ControlID: id, PatientID: "PAT1", Type: "ADT^A01", Time: time.Now()}
		if err := mllpmsg.WriteFrame(c, m.Bytes()); err != nil {
			t.Fatal(err)
		}
		ack, err := mllpmsg.ReadFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		if mllpmsg.Field(ack, "MSA", 1) != "AA" || mllpmsg.Field(ack, "MSA", 2) != id {
			t.Fatalf("ack %q", ack)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	n := 0
	if err := eventlog.Read(strings.NewReader(logs.String()), func(ev eventlog.Event) {
		if ev.Kind != eventlog.KindRecv || ev.Pod != "p0" || ev.Hash != "h1" || ev.ID != mllpmsg.Key(fmt.Sprintf("C%03d", n)) || ev.Patient != mllpmsg.Key("PAT1") {
			t.Errorf("event %+v", ev)
		}
		n++
	}); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("logged %d", n)
	}
	if strings.Contains(logs.String(), "PAT1") || strings.Contains(logs.String(), "C001") {
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
