// Package eventlog is the demo's JSON-lines event log: the generator logs
// every message it sends and every ACK it gets, each listener logs every
// message it receives, and the scenario logs the rollout's steps. The
// summary is computed from these files only. No PHI is ever logged: message
// control ids and patient ids appear only as mllptest.Key hashes.
package eventlog

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Event kinds.
const (
	KindSend      = "send"     // generator: a message was written to the proxy
	KindAck       = "ack"      // generator: an ACK (MSA-2 = MSH-10) arrived
	KindConnError = "connerr"  // generator: the connection failed; unACKed message will be resent
	KindRecv      = "recv"     // listener: a message arrived at a backend
	KindStep      = "step"     // scenario: the rollout's step / weight changed
	KindListener  = "listener" // launcher: a listener started or stopped for a pod
	KindAnalysis  = "analysis" // scenario: an AnalysisRun measurement
	KindOutcome   = "outcome"  // scenario: the rollout's final state
	KindVersion   = "version"  // scenario: a pod-template hash and the version it runs
)

// Event is one log line. Unused fields are omitted.
type Event struct {
	Kind string `json:"ev"`
	// T is the wall-clock time in Unix nanoseconds.
	T int64 `json:"t"`
	// ID is mllptest.Key(MSH-10); Patient is mllptest.Key(PID-3.1).
	ID      string `json:"id,omitempty"`
	Patient string `json:"pk,omitempty"`
	// Seq is the per-patient sequence number (generator only).
	Seq    int64  `json:"seq,omitempty"`
	Sender string `json:"snd,omitempty"`
	Try    int    `json:"try,omitempty"`
	Code   string `json:"code,omitempty"`
	// Pod, Hash and Version identify a backend (listener).
	Pod     string `json:"pod,omitempty"`
	Hash    string `json:"hash,omitempty"`
	Version string `json:"ver,omitempty"`
	// Step fields (scenario).
	Step   int32  `json:"step,omitempty"`
	Weight int32  `json:"weight,omitempty"`
	Phase  string `json:"phase,omitempty"`
	// Analysis fields (scenario).
	Run    string `json:"run,omitempty"`
	Metric string `json:"metric,omitempty"`
	Value  string `json:"value,omitempty"`
	// Detail is free text without PHI.
	Detail string `json:"detail,omitempty"`
}

// Writer appends events to a file, one JSON object per line, each line
// written with a single write so a crash never leaves a half event behind.
type Writer struct {
	mu sync.Mutex
	w  io.Writer
	c  io.Closer
}

// Create opens (appending) the log file at path.
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &Writer{w: f, c: f}, nil
}

// NewWriter wraps an io.Writer (Close does nothing).
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Log writes ev, stamping T with the current time when it is zero.
func (l *Writer) Log(ev Event) error {
	if ev.T == 0 {
		ev.T = time.Now().UnixNano()
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err = l.w.Write(b)
	return err
}

// Close closes the underlying file.
func (l *Writer) Close() error {
	if l.c == nil {
		return nil
	}
	return l.c.Close()
}

// Read parses every event of r, calling fn for each. A truncated last line
// (a process killed mid-write) is ignored; any other bad line is an error.
func Read(r io.Reader, fn func(Event)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	line := 0
	var pending error
	for sc.Scan() {
		line++
		if pending != nil {
			return pending
		}
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			pending = fmt.Errorf("line %d: %w", line, err)
			continue
		}
		fn(ev)
	}
	return sc.Err()
}

// ReadFile is Read for a file path.
func ReadFile(path string, fn func(Event)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := Read(f, fn); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
