package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/router/mllp/api"
	"github.com/nerve-rollouts/nerve/router/mllp/codec"
	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
)

func msgFor(ctl, fac, typ, pid string) []byte {
	return []byte(fmt.Sprintf("MSH|^~\\&|APP|%s|R|RF|20260101||%s|%s|P|2.5\rPID|1||%s^^^AU^MR\r", fac, typ, ctl, pid))
}

func TestOrderingAndACKRelay(t *testing.T) {
	h := newHarness(t, Options{}, mllptest.BackendOptions{}, mllptest.BackendOptions{}, RouteConfig{Weight: 0})
	c := dial(t, h.addr)
	// Pipeline 50 frames in one write: they must be forwarded one at a time, in order.
	var all []byte
	for i := range 50 {
		all = append(all, mllptest.Frame(msgFor(fmt.Sprintf("C%d", i), "F", "ADT^A01", "P1"))...)
	}
	if _, err := c.Conn().Write(all); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		ack, code, err := c.ReadACK([]byte(fmt.Sprintf("C%d", i)))
		if err != nil || code != "AA" {
			t.Fatalf("ack %d: %v %s", i, err, code)
		}
		if !bytes.HasPrefix(ack, []byte("MSH|^~\\&|RECV|HOSP|APP|F|")) {
			t.Fatalf("ACK not relayed verbatim: %q", ack)
		}
	}
	recs := h.stable.Records()
	if len(recs) != 50 {
		t.Fatalf("stable got %d", len(recs))
	}
	for i, r := range recs {
		if r.ControlID != fmt.Sprintf("C%d", i) || r.Seq != i+1 || r.Conn != recs[0].Conn {
			t.Fatalf("record %d out of order: %+v", i, r)
		}
	}
	if h.canary.Count() != 0 {
		t.Fatal("weight 0 sent traffic to canary")
	}
	if got := h.counter(t, "received", "mllp-listener", "stable"); got != 50 {
		t.Fatalf("received metric %v", got)
	}
}

func TestACKMismatchClosesClient(t *testing.T) {
	h := newHarness(t, Options{}, mllptest.BackendOptions{WrongControlID: true}, mllptest.BackendOptions{}, RouteConfig{})
	c := dial(t, h.addr)
	_, _, err := c.Send(msgFor("C1", "F", "ADT^A01", "P1"))
	if err == nil {
		t.Fatal("mismatching ACK must not be relayed")
	}
	if got := h.counter(t, "errors", "mllp-listener", "stable", ReasonACKMismatch); got != 1 {
		t.Fatalf("ack_mismatch=%v", got)
	}
}

func TestACKTimeout(t *testing.T) {
	h := newHarness(t, Options{AckTimeout: 200 * time.Millisecond}, mllptest.BackendOptions{NoACK: true},
		mllptest.BackendOptions{}, RouteConfig{})
	c := dial(t, h.addr)
	_, _, err := c.Send(msgFor("C1", "F", "ADT^A01", "P1"))
	if !errors.Is(err, io.EOF) {
		t.Fatalf("want the proxy to close the connection, got %v", err)
	}
	if got := h.counter(t, "errors", "mllp-listener", "stable", ReasonTimeout); got != 1 {
		t.Fatalf("timeout=%v", got)
	}
}

func TestNAKRelayedAndCounted(t *testing.T) {
	h := newHarness(t, Options{}, mllptest.BackendOptions{ErrorRate: 1}, mllptest.BackendOptions{}, RouteConfig{})
	c := dial(t, h.addr)
	_, code, err := c.Send(msgFor("C1", "F", "ADT^A01", "P1"))
	if err != nil || code != "AE" {
		t.Fatalf("want AE relayed, got %q %v", code, err)
	}
	if got := h.counter(t, "errors", "mllp-listener", "stable", ReasonNAK); got != 1 {
		t.Fatalf("nak=%v", got)
	}
}

func TestEnhancedModeRelaysBothACKs(t *testing.T) {
	h := newHarness(t, Options{}, mllptest.BackendOptions{CommitFirst: true}, mllptest.BackendOptions{}, RouteConfig{})
	c := dial(t, h.addr)
	msg := []byte("MSH|^~\\&|APP|F|R|RF|20260101||ORU^R01|E1|P|2.5|||AL|AL\rPID|1||P1\r")
	_, code, err := c.Send(msg) // Client skips the CA and returns the application ACK
	if err != nil || code != "AA" {
		t.Fatalf("code %q err %v", code, err)
	}
	if got := h.counter(t, "acks", "mllp-listener", "stable", "CA"); got != 1 {
		t.Fatalf("CA relayed %v times", got)
	}
}

func TestConnectFailureFallsBack(t *testing.T) {
	h := newHarness(t, Options{}, mllptest.BackendOptions{}, mllptest.BackendOptions{},
		RouteConfig{Weight: 100, Canary: []string{"127.0.0.1:1"}})
	c := dial(t, h.addr)
	for i := range 5 {
		if _, code, err := c.Send(msgFor(fmt.Sprintf("C%d", i), "F", "ADT^A01", "P1")); err != nil || code != "AA" {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if h.stable.Count() != 5 {
		t.Fatalf("stable got %d, want all 5 after fallback", h.stable.Count())
	}
	if got := h.counter(t, "fallbacks", "mllp-listener", "canary"); got != 5 {
		t.Fatalf("fallbacks=%v", got)
	}
	if got := h.counter(t, "errors", "mllp-listener", "canary", ReasonConnect); got != 5 {
		t.Fatalf("connect errors=%v", got)
	}
}

func TestClientFramesNeverForwarded(t *testing.T) {
	h := newHarness(t, Options{}, mllptest.BackendOptions{}, mllptest.BackendOptions{}, RouteConfig{})
	c := dial(t, h.addr)
	junk := "\x00\x00\n" + "\x0b\x1c\r" + "\x0b\x06\x1c\r" + "\x0bPID|1||x\r\x1c\r" + "\x0bMSH|half"
	if _, err := c.Conn().Write([]byte(junk)); err != nil {
		t.Fatal(err)
	}
	if _, code, err := c.Send(msgFor("OK1", "F", "ADT^A01", "P1")); err != nil || code != "AA" {
		t.Fatalf("valid message after junk: %v", err)
	}
	if h.stable.Count() != 1 {
		t.Fatalf("backend got %d messages, want only the valid one", h.stable.Count())
	}
	if got := h.counter(t, "errors", "mllp-listener", "none", ReasonNotHL7); got != 3 {
		t.Fatalf("not_hl7=%v", got)
	}
}

func TestOversizeClosesClient(t *testing.T) {
	h := newHarness(t, Options{MaxFrame: 1024}, mllptest.BackendOptions{}, mllptest.BackendOptions{}, RouteConfig{})
	c := dial(t, h.addr)
	big := msgFor("C1", "F", "ADT^A01", strings.Repeat("9", 2000))
	if _, _, err := c.Send(big); err == nil {
		t.Fatal("oversize frame must close the connection")
	}
	if got := h.counter(t, "errors", "mllp-listener", "none", ReasonOversize); got != 1 {
		t.Fatalf("oversize=%v", got)
	}
}

func TestMatchRules(t *testing.T) {
	h := newHarness(t, Options{}, mllptest.BackendOptions{}, mllptest.BackendOptions{}, RouteConfig{
		Weight: 0,
		Matches: []api.Match{{Field: api.FieldMSH4, Exact: "LAB1"}, {Field: api.FieldMSH9, Prefix: "ORU^"},
			{Field: api.FieldMSH9, Regex: "^ADT\\^A0[38]$"}},
	})
	c := dial(t, h.addr)
	cases := []struct {
		fac, typ string
		canary   bool
	}{
		{"LAB1", "ADT^A01", true}, {"LAB1^X^Y", "ADT^A01", true}, {"LAB2", "ADT^A01", false},
		{"F", "ORU^R01", true}, {"F", "ADT^A08^ADT_A01", true}, {"F", "ADT^A04", false},
	}
	for i, tc := range cases {
		ctl := fmt.Sprintf("M%d", i)
		if _, _, err := c.Send(msgFor(ctl, tc.fac, tc.typ, "P1")); err != nil {
			t.Fatal(err)
		}
		recs := h.canary.Records()
		got := len(recs) > 0 && recs[len(recs)-1].ControlID == ctl
		if got != tc.canary {
			t.Errorf("%s %s: canary=%v want %v", tc.fac, tc.typ, got, tc.canary)
		}
	}
}

func TestShadowMirror(t *testing.T) {
	shadow := newBackend(t, mllptest.BackendOptions{Name: "shadow", ErrorRate: 1})
	h := newHarness(t, Options{}, mllptest.BackendOptions{}, mllptest.BackendOptions{}, RouteConfig{
		StickyKey: api.StickyMessage,
		Mirror:    &MirrorConfig{Percentage: 100, Targets: []string{shadow.Addr()}, Shadow: true},
	})
	c := dial(t, h.addr)
	for i := range 20 {
		if _, code, err := c.Send(msgFor(fmt.Sprintf("C%d", i), "F", "ADT^A01", "P1")); err != nil || code != "AA" {
			t.Fatalf("mirror must not change the relayed ACK: %q %v", code, err)
		}
	}
	waitFor(t, func() bool { return shadow.Count() == 20 }, "shadow got %d", shadow.Count)
	if h.stable.Count() != 20 {
		t.Fatal("primary traffic changed by mirroring")
	}
}

func TestMirrorRefusedWithoutShadowFlag(t *testing.T) {
	shadow := newBackend(t, mllptest.BackendOptions{Name: "notshadow"})
	h := newHarness(t, Options{}, mllptest.BackendOptions{}, mllptest.BackendOptions{}, RouteConfig{
		Mirror: &MirrorConfig{Percentage: 100, Targets: []string{shadow.Addr()}, Shadow: false},
	})
	problems, _ := h.p.Apply(RouteConfig{Service: "mllp-listener", Stable: []string{h.stable.Addr()},
		Mirror: &MirrorConfig{Percentage: 100, Targets: []string{shadow.Addr()}}})
	if len(problems) == 0 || h.p.Ready() {
		t.Fatal("a non-shadow mirror target must be refused and reported")
	}
	c := dial(t, h.addr)
	if _, _, err := c.Send(msgFor("C1", "F", "ADT^A01", "P1")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if shadow.Count() != 0 {
		t.Fatal("mirrored to a backend not flagged shadow")
	}
}

func waitFor(t *testing.T, cond func() bool, msg string, arg func() int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf(msg, arg())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWeightChangeMovesTraffic(t *testing.T) {
	h := newHarness(t, Options{}, mllptest.BackendOptions{}, mllptest.BackendOptions{}, RouteConfig{StickyKey: api.StickyMessage})
	c := dial(t, h.addr)
	send := func(prefix string, n int) {
		for i := range n {
			if _, _, err := c.Send(msgFor(fmt.Sprintf("%s%d", prefix, i), "F", "ADT^A01", "P1")); err != nil {
				t.Fatal(err)
			}
		}
	}
	send("a", 200)
	if h.canary.Count() != 0 {
		t.Fatal("canary got traffic at weight 0")
	}
	if _, err := h.p.Apply(RouteConfig{Service: "mllp-listener", Weight: 100, StickyKey: api.StickyMessage,
		Stable: []string{h.stable.Addr()}, Canary: []string{h.canary.Addr()}}); err != nil {
		t.Fatal(err)
	}
	send("b", 200) // same connection: the very next decision uses the new weight
	if h.canary.Count() != 200 || h.stable.Count() != 200 {
		t.Fatalf("stable %d canary %d", h.stable.Count(), h.canary.Count())
	}
}

func TestBackendKillZeroLoss(t *testing.T) {
	h := newHarness(t, Options{}, mllptest.BackendOptions{}, mllptest.BackendOptions{}, RouteConfig{
		Weight: 50, StickyKey: api.StickyMessage})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resCh := make(chan *mllptest.Result, 1)
	go func() {
		r, _ := mllptest.RunSenders(ctx, mllptest.SenderOptions{Addr: h.addr, Senders: 4, Messages: 300, Reconnect: true,
			Gen: mllptest.GenOptions{Seed: 1, Patients: 50}})
		resCh <- r
	}()
	waitFor(t, func() bool { return h.canary.Count() > 50 }, "canary got %d", h.canary.Count)
	_ = h.canary.Close() // kill the canary pod mid-stream
	res := <-resCh
	seen := map[string]bool{}
	for _, r := range append(h.stable.Records(), h.canary.Records()...) {
		seen[r.ControlID] = true
	}
	for _, id := range res.AckedIDs {
		if !seen[id] {
			t.Fatalf("message %s was ACKed but no backend received it", id)
		}
	}
	if len(res.AckedIDs) != 1200 {
		t.Fatalf("acked %d of 1200 (senders resend unACKed messages)", len(res.AckedIDs))
	}
}

func TestDrainFinishesInFlight(t *testing.T) {
	h := newHarness(t, Options{}, mllptest.BackendOptions{Delay: 300 * time.Millisecond}, mllptest.BackendOptions{}, RouteConfig{})
	idle := dial(t, h.addr)
	busy := dial(t, h.addr)
	if _, _, err := idle.Send(msgFor("I1", "F", "ADT^A01", "P1")); err != nil {
		t.Fatal(err)
	}
	errCh := make(chan error, 1)
	go func() {
		_, _, err := busy.Send(msgFor("B1", "F", "ADT^A01", "P1"))
		errCh <- err
	}()
	waitFor(t, func() bool { return h.stable.Count() == 2 }, "stable got %d", h.stable.Count)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := h.p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errCh; err != nil {
		t.Fatalf("in-flight message not finished by drain: %v", err)
	}
	if _, _, err := idle.ReadACK([]byte("x")); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection not closed by drain: %v", err)
	}
	if _, err := mllptest.Dial(h.addr, nil); err == nil {
		t.Fatal("listener still accepting after drain")
	}
}

func TestRawFramePreserved(t *testing.T) {
	h := newHarness(t, Options{Lenient: true}, mllptest.BackendOptions{}, mllptest.BackendOptions{}, RouteConfig{})
	c := dial(t, h.addr)
	// FS without CR in lenient mode, LF segment ends, non-ASCII bytes.
	msg := "MSH|^~\\&|APP|F|R|RF|T||ADT^A01|L1|P|2.5\nPID|1||P1\nNTE|1||Größe\xff\n"
	if _, err := c.Conn().Write([]byte("\x0b" + msg + "\x1c")); err != nil {
		t.Fatal(err)
	}
	if _, code, err := c.ReadACK([]byte("L1")); err != nil || code != "AA" {
		t.Fatalf("%v %s", err, code)
	}
	sum := sha256.Sum256([]byte(msg))
	if got := h.stable.Records()[0].PayloadHash; got != hex.EncodeToString(sum[:8]) {
		t.Fatal("payload bytes changed on the way through the proxy")
	}
}

func TestFrameTimeoutClosesClient(t *testing.T) {
	h := newHarness(t, Options{FrameTimeout: 100 * time.Millisecond}, mllptest.BackendOptions{}, mllptest.BackendOptions{}, RouteConfig{})
	c := dial(t, h.addr)
	if _, err := c.Conn().Write([]byte("\x0bMSH|^~\\&|APP|F|R|RF|T||ADT^A01|X1|P|2.5\r")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadACK([]byte("X1")); !errors.Is(err, io.EOF) {
		t.Fatalf("want close after frame timeout, got %v", err)
	}
	if h.stable.Count() != 0 {
		t.Fatal("partial frame forwarded")
	}
	waitFor(t, func() bool { return h.counter(t, "errors", "mllp-listener", "none", ReasonFraming) == 1 },
		"framing errors %d", func() int64 { return int64(h.counter(t, "errors", "mllp-listener", "none", ReasonFraming)) })
	_ = codec.SB
}
