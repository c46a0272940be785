package eventlog

import (
	"bytes"
	"strings"
	"testing"
)

func TestRoundTripAndTruncatedTail(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	for _, ev := range []Event{{Kind: KindSend, ID: "a", Seq: 1}, {Kind: KindAck, ID: "a", Code: "AA"}} {
		if err := w.Log(ev); err != nil {
			t.Fatal(err)
		}
	}
	var got []Event
	if err := Read(strings.NewReader(b.String()+`{"ev":"se`), func(ev Event) { got = append(got, ev) }); err != nil {
		t.Fatalf("a truncated last line must be ignored: %v", err)
	}
	if len(got) != 2 || got[0].Seq != 1 || got[1].Code != "AA" || got[0].T == 0 {
		t.Fatalf("events %+v", got)
	}
	if err := Read(strings.NewReader(`{"ev":"x"`+"\n"+b.String()), func(Event) {}); err == nil {
		t.Fatal("a bad line in the middle must be an error")
	}
}
