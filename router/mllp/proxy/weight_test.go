package proxy

import (
	"fmt"
	"math"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nerve-rollouts/nerve/router/mllp/api"
	"github.com/nerve-rollouts/nerve/router/mllp/codec"
)

func compileFor(t *testing.T, w int32, key api.StickyKey) *routeState {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := compile(RouteConfig{Service: "s", Weight: w, StickyKey: key, Stable: []string{"a"}, Canary: []string{"b"}}, m)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestWeightAccuracy: 100k messages over 10k patients (PID-3 key) land on the
// canary within ±1 point of the weight, and raising the weight only moves
// patients stable → canary.
func TestWeightAccuracy(t *testing.T) {
	const messages, patients = 100000, 10000
	weights := []int32{0, 1, 5, 25, 50, 75, 100}
	ids := make([][]byte, patients)
	for i := range ids {
		ids[i] = []byte(fmt.Sprintf("P%07d", i))
	}
	prev := map[int]bool{}
	for _, w := range weights {
		rs := compileFor(t, w, api.StickyPID3)
		canary := 0
		onCanary := map[int]bool{}
		for i := range messages {
			pat := (i * 7919) % patients
			h := codec.Header{PatientID: ids[pat], PatientIDAuth: []byte("NERVE"), HasPID: true}
			if k, _ := rs.pick(&h, 0); k == idxCanary {
				canary++
				onCanary[pat] = true
			}
		}
		share := 100 * float64(canary) / messages
		if math.Abs(share-float64(w)) > 1 {
			t.Errorf("weight %d: canary share %.2f%%", w, share)
		}
		for pat := range prev {
			if !onCanary[pat] {
				t.Errorf("weight %d moved patient %d back to stable", w, pat)
			}
		}
		prev = onCanary
	}
}

func TestStickyKeys(t *testing.T) {
	noPID := codec.Header{SendingFacility: []byte("FAC1"), SendingApp: []byte("APP"), ControlID: []byte("1")}
	withPID := noPID
	withPID.PatientID, withPID.HasPID = []byte("P1"), true
	pid := compileFor(t, 50, api.StickyPID3)
	msh4 := compileFor(t, 50, api.StickyMSH4)
	if pid.keyHash(&noPID, 0) != msh4.keyHash(&noPID, 0) {
		t.Fatal("pid3 must fall back to MSH-4/MSH-3 without PID")
	}
	if pid.keyHash(&withPID, 0) == msh4.keyHash(&withPID, 0) {
		t.Fatal("pid3 must use PID-3 when present")
	}
	conn := compileFor(t, 50, api.StickyConnection)
	if conn.keyHash(&withPID, 42) != 42 {
		t.Fatal("connection key must use the connection hash")
	}
	msg := compileFor(t, 50, api.StickyMessage)
	other := withPID
	other.ControlID = []byte("2")
	if msg.keyHash(&withPID, 0) == msg.keyHash(&other, 0) {
		t.Fatal("message key must depend on MSH-10")
	}
}

func BenchmarkPick(b *testing.B) {
	m, _ := NewMetrics(prometheus.NewRegistry())
	rs, _ := compile(RouteConfig{Service: "s", Weight: 5, Stable: []string{"a"}, Canary: []string{"b"}}, m)
	h := codec.Header{PatientID: []byte("P0001234"), PatientIDAuth: []byte("NERVE"), HasPID: true}
	b.ReportAllocs()
	for b.Loop() {
		rs.pick(&h, 0)
	}
}
