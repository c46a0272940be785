package mllpmsg

import (
	"bufio"
	"bytes"
	"testing"
	"time"
)

func TestFrameRoundTripAndFields(t *testing.T) {
	now := time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)
	m := Message{SendingFacility: "FAC1", ControlID: "S1M00000001", PatientID: "P000042", Type: "ADT^A01", Time: now}
	var buf bytes.Buffer
	buf.WriteString("junk\n")
	if err := WriteFrame(&buf, m.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := WriteFrame(&buf, Ack(m.Bytes(), "AA", now)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(&buf)
	got, err := ReadFrame(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		seg  string
		n    int
		want string
	}{{"MSH", 1, "|"}, {"MSH", 4, "FAC1"}, {"MSH", 9, "ADT^A01"}, {"MSH", 10, "S1M00000001"}, {"PID", 3, "P000042^^^NERVE-DEMO^MR"}} {
		if f := Field(got, tc.seg, tc.n); f != tc.want {
			t.Errorf("%s-%d = %q want %q", tc.seg, tc.n, f, tc.want)
		}
	}
	if FirstComponent(Field(got, "PID", 3)) != "P000042" {
		t.Error("PID-3.1")
	}
	ack, err := ReadFrame(r)
	if err != nil {
		t.Fatal(err)
	}
	if Field(ack, "MSA", 1) != "AA" || Field(ack, "MSA", 2) != "S1M00000001" || Field(ack, "MSH", 9) != "ACK^A01^ACK" {
		t.Errorf("bad ack %q", ack)
	}
}

func TestSegmentsLineEnds(t *testing.T) {
	if n := len(Segments([]byte("MSH|^~\\&|a\r\nPID|1\nPV1|1\r"))); n != 3 {
		t.Fatalf("segments=%d", n)
	}
}

func TestKeyStableAndOpaque(t *testing.T) {
	if Key("P1") != Key("P1") || Key("P1") == Key("P2") || len(Key("P1")) != 16 {
		t.Fatal("key")
	}
}
