package mllptest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/nerve-rollouts/nerve/router/mllp/codec"
)

func TestSendersAgainstBackend(t *testing.T) {
	b, err := NewBackend(BackendOptions{Name: "direct", Record: true, ErrorRate: 0.5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close() }()
	res, err := RunSenders(context.Background(), SenderOptions{Addr: b.Addr(), Senders: 3, Messages: 100,
		Gen: GenOptions{Seed: 9, Patients: 20}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Acked != 300 || len(res.AckedIDs) != 300 || b.Count() != 300 {
		t.Fatalf("acked %d ids %d backend %d", res.Acked, len(res.AckedIDs), b.Count())
	}
	if res.NAKs != b.Errors() || res.NAKs < 100 || res.NAKs > 200 {
		t.Fatalf("NAKs %d backend errors %d", res.NAKs, b.Errors())
	}
	perConn := map[int]int{}
	for _, r := range b.Records() {
		if strings.HasPrefix(r.KeyHash, "P") || len(r.KeyHash) != 16 {
			t.Fatalf("key hash %q must be a hash, not the patient id", r.KeyHash)
		}
		perConn[r.Conn]++
		if r.Seq != perConn[r.Conn] {
			t.Fatalf("sequence gap on connection %d", r.Conn)
		}
	}
	if len(perConn) != 3 {
		t.Fatalf("connections %d", len(perConn))
	}
	if res.Quantile(0.99) <= 0 {
		t.Fatal("no latency recorded")
	}
}

func TestKeyStableAndOpaque(t *testing.T) {
	if Key("P1") != Key("P1") || Key("P1") == Key("P2") || len(Key("P1")) != 16 || strings.Contains(Key("P1"), "P1") {
		t.Fatal("key")
	}
}

func TestRenderAndACK(t *testing.T) {
	m := NewGenerator(GenOptions{App: "APP"}).Render("ORU^R01", "FAC9", "CTL1", 42)
	h, err := codec.ParseHeader(m.Payload, true)
	if err != nil {
		t.Fatal(err)
	}
	if string(h.SendingFacility) != "FAC9" || string(h.ControlID) != "CTL1" || string(h.PatientID) != "P0000042" || m.Patient != "P0000042" {
		t.Fatalf("header %+v", h)
	}
	ack := AppendACK(nil, h, h.ControlID, "AE", 7)
	if ack[0] != codec.SB || ack[len(ack)-2] != codec.EB || ack[len(ack)-1] != codec.CR {
		t.Fatalf("not framed: %q", ack)
	}
	code, id, err := codec.ParseACK(ack[1 : len(ack)-2])
	if err != nil || string(code) != "AE" || string(id) != "CTL1" {
		t.Fatalf("ack %q: %s %s %v", ack, code, id, err)
	}
	if !bytes.Equal(Frame(m.Payload)[1:len(m.Payload)+1], m.Payload) {
		t.Fatal("frame")
	}
}
