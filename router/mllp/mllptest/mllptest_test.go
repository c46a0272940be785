package mllptest

import (
	"context"
	"strings"
	"testing"

	"github.com/nerve-rollouts/nerve/router/mllp/hl7gen"
)

func TestSendersAgainstBackend(t *testing.T) {
	b, err := NewBackend(BackendOptions{Name: "direct", Record: true, ErrorRate: 0.5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close() }()
	res, err := RunSenders(context.Background(), SenderOptions{Addr: b.Addr(), Senders: 3, Messages: 100,
		Gen: hl7gen.Options{Seed: 9, Patients: 20}})
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
