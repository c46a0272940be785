package mllptest

import (
	"bytes"
	"testing"
)

func TestDeterministicAndSized(t *testing.T) {
	a := NewGenerator(GenOptions{Seed: 7, TargetSize: 1000})
	b := NewGenerator(GenOptions{Seed: 7, TargetSize: 1000})
	seen := map[string]bool{}
	for i := 0; i < 500; i++ {
		ma, mb := a.Next(), b.Next()
		if !bytes.Equal(ma.Payload, mb.Payload) {
			t.Fatalf("message %d differs between equal seeds", i)
		}
		if len(ma.Payload) < 1000 || len(ma.Payload) > 1010 {
			t.Fatalf("size %d, want about 1000", len(ma.Payload))
		}
		if !bytes.HasPrefix(ma.Payload, []byte("MSH|^~\\&|")) || bytes.IndexByte(ma.Payload, '\n') >= 0 {
			t.Fatal("bad message shape")
		}
		if bytes.ContainsAny(ma.Payload, "\x0b\x1c") {
			t.Fatal("framing bytes inside payload")
		}
		seen[ma.Type] = true
	}
	if len(seen) != len(MessageTypes()) {
		t.Fatalf("types seen %v", seen)
	}
}
