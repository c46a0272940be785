package summary

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nerve-rollouts/nerve/hack/demo/eventlog"
)

func writeLog(t *testing.T, path string, evs ...eventlog.Event) {
	t.Helper()
	w, err := eventlog.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, ev := range evs {
		if err := w.Log(ev); err != nil {
			t.Fatal(err)
		}
	}
}

func send(t int64, id, pk string, seq int64) eventlog.Event {
	return eventlog.Event{Kind: eventlog.KindSend, T: t, ID: id, Patient: pk, Seq: seq, Try: 1}
}

func ack(t int64, id string) eventlog.Event {
	return eventlog.Event{Kind: eventlog.KindAck, T: t, ID: id, Code: "AA"}
}

func recv(t int64, id, pk, hash string) eventlog.Event {
	return eventlog.Event{Kind: eventlog.KindRecv, T: t, ID: id, Patient: pk, Hash: hash}
}

func TestCompute(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, filepath.Join(dir, GeneratorLog),
		send(10, "a", "p1", 1), ack(11, "a"),
		send(20, "b", "p1", 2), ack(21, "b"),
		send(30, "c", "p2", 1), // received, never ACKed
		send(40, "d", "p2", 2), // lost
		send(50, "e", "p1", 3), ack(51, "e"),
		send(60, "f", "p3", 1), ack(61, "f"),
	)
	writeLog(t, filepath.Join(dir, "listener-pod-a.jsonl"),
		recv(12, "a", "p1", "v1"), recv(35, "c", "p2", "v1"), recv(36, "c", "p2", "v1"))
	writeLog(t, filepath.Join(dir, "listener-pod-b.jsonl"),
		recv(19, "b", "p1", "v2"), recv(52, "e", "p1", "v2"), recv(62, "f", "p3", "v2"))
	writeLog(t, filepath.Join(dir, ScenarioLog),
		eventlog.Event{Kind: eventlog.KindVersion, T: 1, Hash: "v1", Version: "v1", Detail: "stable"},
		eventlog.Event{Kind: eventlog.KindVersion, T: 1, Hash: "v2", Version: "v2", Detail: "canary"},
		eventlog.Event{Kind: eventlog.KindStep, T: 5, Step: 0, Weight: 0},
		eventlog.Event{Kind: eventlog.KindStep, T: 18, Step: 1, Weight: 50},
		eventlog.Event{Kind: eventlog.KindAnalysis, T: 40, Run: "r1", Metric: "ack-latency", Value: "[0.001]", Phase: "Successful"},
		eventlog.Event{Kind: eventlog.KindOutcome, T: 70, Phase: Healthy},
	)
	s, err := Compute(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Sent != 6 || s.Acked != 4 || s.Received != 5 || s.Duplicates != 1 || s.Lost != 1 || s.ReceivedNotAcked != 1 {
		t.Fatalf("counts %+v", s)
	}
	if s.Reordered != 0 {
		t.Fatalf("reordered %d", s.Reordered)
	}
	if len(s.Steps) != 2 || s.Steps[0].Received != 1 || s.Steps[1].Received != 4 || s.Steps[1].Canary != 3 {
		t.Fatalf("steps %+v", s.Steps)
	}
	var out bytes.Buffer
	s.Print(&out)
	if !strings.HasSuffix(out.String(), "demo summary: result=Healthy sent=6 acked=4 lost=1 reordered=0\n") {
		t.Fatalf("output:\n%s", out.String())
	}
	if s.OK(Healthy) {
		t.Fatal("a lost message must fail the run")
	}
}

func TestReordered(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, filepath.Join(dir, GeneratorLog), send(1, "a", "p", 1), ack(2, "a"), send(3, "b", "p", 2), ack(4, "b"))
	writeLog(t, filepath.Join(dir, "listener-x.jsonl"), recv(5, "b", "p", "h"), recv(6, "a", "p", "h"))
	writeLog(t, filepath.Join(dir, ScenarioLog), eventlog.Event{Kind: eventlog.KindOutcome, T: 9, Phase: RolledBack})
	s, err := Run(dir, RolledBack, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Reordered != 1 || s.Lost != 0 {
		t.Fatalf("%+v", s)
	}
	if _, err := Run(dir, Healthy, &bytes.Buffer{}); err == nil {
		t.Fatal("unexpected result must be an error")
	}
}
