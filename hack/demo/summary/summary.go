// Package summary computes the demo's result from its logs only: the
// generator's sends and ACKs, every listener's receipts and the scenario's
// step, version, analysis and outcome events. Nothing is asserted up front:
// sent, ACKed, lost (sent but neither ACKed nor received), duplicates,
// reordered per patient, the canary share per step as the listeners saw it,
// and the analysis values all come out of the diff.
package summary

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nerve-rollouts/nerve/hack/demo/eventlog"
)

// Log file names inside a run directory.
const (
	GeneratorLog = "generator.jsonl"
	ScenarioLog  = "scenario.jsonl"
	ListenerGlob = "listener-*.jsonl"
)

// Result values.
const (
	Healthy    = "Healthy"
	RolledBack = "RolledBack"
)

// Step is one stretch of the rollout at a fixed canary weight.
type Step struct {
	Index            int32
	Weight           int32
	Start, End       time.Time
	Received, Canary int
}

// Share is the canary share of this step's receipts, in percent.
func (s Step) Share() float64 {
	if s.Received == 0 {
		return 0
	}
	return 100 * float64(s.Canary) / float64(s.Received)
}

// Measurement is one analysis value.
type Measurement struct {
	Run, Metric, Value, Phase string
}

// Summary is the computed outcome of a run.
type Summary struct {
	Result                 string
	Sent, Acked, Naked     int
	Received, Duplicates   int
	Lost, Reordered        int
	ReceivedNotAcked       int
	Resends                int
	StableHash, CanaryHash string
	Versions               map[string]string
	Steps                  []Step
	Analysis               []Measurement
	OutcomeDetail          string
}

type receipt struct {
	t       int64
	id, pk  string
	hash    string
	version string
}

// Compute reads the run directory's logs.
func Compute(dir string) (*Summary, error) {
	s := &Summary{Versions: map[string]string{}}
	seq := map[string]int64{}
	sent, acked := map[string]bool{}, map[string]bool{}
	err := eventlog.ReadFile(filepath.Join(dir, GeneratorLog), func(ev eventlog.Event) {
		switch ev.Kind {
		case eventlog.KindSend:
			if ev.Try > 1 {
				s.Resends++
			}
			sent[ev.ID] = true
			seq[ev.ID] = ev.Seq
		case eventlog.KindAck:
			if ev.Code == "AA" {
				acked[ev.ID] = true
			} else {
				s.Naked++
			}
		}
	})
	if err != nil {
		return nil, err
	}
	recv, err := readReceipts(dir)
	if err != nil {
		return nil, err
	}
	steps, err := s.readScenario(dir)
	if err != nil {
		return nil, err
	}
	s.Sent, s.Acked = len(sent), len(acked)
	s.diff(sent, acked, seq, recv)
	s.Steps = shares(steps, recv, s.CanaryHash)
	return s, nil
}

func readReceipts(dir string) ([]receipt, error) {
	files, err := filepath.Glob(filepath.Join(dir, ListenerGlob))
	if err != nil {
		return nil, err
	}
	var out []receipt
	for _, f := range files {
		err := eventlog.ReadFile(f, func(ev eventlog.Event) {
			if ev.Kind == eventlog.KindRecv {
				out = append(out, receipt{t: ev.T, id: ev.ID, pk: ev.Patient, hash: ev.Hash, version: ev.Version})
			}
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].t < out[j].t })
	return out, nil
}

// readScenario collects versions, step boundaries, analysis values and the outcome.
func (s *Summary) readScenario(dir string) ([]Step, error) {
	var steps []Step
	err := eventlog.ReadFile(filepath.Join(dir, ScenarioLog), func(ev eventlog.Event) {
		switch ev.Kind {
		case eventlog.KindVersion:
			s.Versions[ev.Hash] = ev.Version
			switch ev.Detail {
			case "stable":
				s.StableHash = ev.Hash
			case "canary":
				s.CanaryHash = ev.Hash
			}
		case eventlog.KindStep:
			steps = append(steps, Step{Index: ev.Step, Weight: ev.Weight, Start: time.Unix(0, ev.T)})
		case eventlog.KindAnalysis:
			s.Analysis = append(s.Analysis, Measurement{Run: ev.Run, Metric: ev.Metric, Value: ev.Value, Phase: ev.Phase})
		case eventlog.KindOutcome:
			s.Result, s.OutcomeDetail = ev.Phase, ev.Detail
			if len(steps) > 0 {
				steps[len(steps)-1].End = time.Unix(0, ev.T)
			}
		}
	})
	for i := 0; i+1 < len(steps); i++ {
		steps[i].End = steps[i+1].Start
	}
	return steps, err
}

// diff counts duplicates, losses and per-patient reordering.
func (s *Summary) diff(sent, acked map[string]bool, seq map[string]int64, recv []receipt) {
	seen := map[string]bool{}
	maxSeq := map[string]int64{}
	for _, r := range recv {
		if seen[r.id] {
			s.Duplicates++
			continue
		}
		seen[r.id] = true
		q, ok := seq[r.id]
		if !ok {
			continue
		}
		if q < maxSeq[r.pk] {
			s.Reordered++
		} else {
			maxSeq[r.pk] = q
		}
	}
	s.Received = len(seen)
	for id := range sent {
		switch {
		case !acked[id] && !seen[id]:
			s.Lost++
		case !acked[id] && seen[id]:
			s.ReceivedNotAcked++
		}
	}
}

// shares attributes each first receipt to the step it fell in.
func shares(steps []Step, recv []receipt, canaryHash string) []Step {
	seen := map[string]bool{}
	for _, r := range recv {
		if seen[r.id] {
			continue
		}
		seen[r.id] = true
		t := time.Unix(0, r.t)
		for i := range steps {
			if t.Before(steps[i].Start) || (!steps[i].End.IsZero() && !t.Before(steps[i].End)) {
				continue
			}
			steps[i].Received++
			if canaryHash != "" && r.hash == canaryHash {
				steps[i].Canary++
			}
			break
		}
	}
	return steps
}

// OK reports whether the run had the expected result and lost nothing.
func (s *Summary) OK(expected string) bool { return s.Result == expected && s.Lost == 0 }

// Line is the one-line verdict the demo ends with.
func (s *Summary) Line() string {
	result := s.Result
	if result == "" {
		result = "Unknown"
	}
	return fmt.Sprintf("demo summary: result=%s sent=%d acked=%d lost=%d reordered=%d", result, s.Sent, s.Acked, s.Lost, s.Reordered)
}

// Print writes the full report, ending with Line.
func (s *Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "messages: sent=%d acked=%d (AE/AR %d) received=%d duplicates=%d lost=%d received-not-acked=%d resends=%d reordered-per-patient=%d\n",
		s.Sent, s.Acked, s.Naked, s.Received, s.Duplicates, s.Lost, s.ReceivedNotAcked, s.Resends, s.Reordered)
	fmt.Fprintf(w, "versions: stable=%s (%s) canary=%s (%s)\n", s.StableHash, s.Versions[s.StableHash], s.CanaryHash, s.Versions[s.CanaryHash])
	fmt.Fprintln(w, "canary share as received by the listeners, per step:")
	fmt.Fprintf(w, "  %-5s %-7s %-9s %-9s %-7s %s\n", "step", "weight", "duration", "received", "canary", "share")
	for _, st := range s.Steps {
		d := "-"
		if !st.End.IsZero() {
			d = st.End.Sub(st.Start).Round(100 * time.Millisecond).String()
		}
		idx := fmt.Sprint(st.Index)
		if st.Index < 0 {
			idx = "v1" // before the new version was shipped
		}
		fmt.Fprintf(w, "  %-5s %-7d %-9s %-9d %-7d %.1f%%\n", idx, st.Weight, d, st.Received, st.Canary, st.Share())
	}
	fmt.Fprintln(w, "analysis (measured values, in order):")
	for _, r := range s.analysisRows() {
		fmt.Fprintf(w, "  %s\n", r)
	}
	if s.OutcomeDetail != "" {
		fmt.Fprintf(w, "outcome: %s\n", s.OutcomeDetail)
	}
	fmt.Fprintln(w, s.Line())
}

// analysisRows groups measurements per run and metric.
func (s *Summary) analysisRows() []string {
	type key struct{ run, metric string }
	var order []key
	vals := map[key][]string{}
	phase := map[key]string{}
	for _, m := range s.Analysis {
		k := key{m.Run, m.Metric}
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = append(vals[k], m.Value)
		phase[k] = m.Phase
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, fmt.Sprintf("%-34s %-12s %-11s %s", k.run, k.metric, phase[k], strings.Join(vals[k], " ")))
	}
	if len(out) == 0 {
		out = append(out, "(no AnalysisRun measurements)")
	}
	return out
}

// Run computes the summary of dir, prints it to w and returns an error when
// the result is not the expected one or a message was lost.
func Run(dir, expected string, w io.Writer) (*Summary, error) {
	s, err := Compute(dir)
	if err != nil {
		return nil, err
	}
	s.Print(w)
	if !s.OK(expected) {
		return s, fmt.Errorf("demo failed: expected result=%s with lost=0, got result=%s lost=%d", expected, s.Result, s.Lost)
	}
	return s, nil
}
