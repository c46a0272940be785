//go:build e2e

package demo

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/hack/demo/scenario"
	"github.com/nerve-rollouts/nerve/hack/demo/summary"
)

// lockedBuffer collects the scenario's narrative for the test log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// buildDemo builds the demo's program (nerve-demo) into a directory.
func buildDemo(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", filepath.Join(dir, "nerve-demo"), "./hack/demo/cmd/nerve-demo")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./hack/demo/cmd/nerve-demo: %v\n%s", err, out)
	}
	return dir
}

func suffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func runScenario(t *testing.T, bad bool) *summary.Summary {
	t.Helper()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// Every binary the scenario needs must exist: a missing one fails here, clearly.
	for _, b := range []string{"kubectl-nerve", "nerve-controller", "nerve-mllp-proxy", "nerve-mllp", "nerve-prometheus"} {
		framework.Binary(t, b)
	}
	id := suffix()
	name := "good"
	if bad {
		name = "bad"
	}
	runDir := filepath.Join(t.TempDir(), "run")
	out := &lockedBuffer{}
	cfg := scenario.Config{
		Repo: root, Bin: os.Getenv(framework.EnvNerveBin), DemoBin: buildDemo(t, root),
		Kubeconfig: os.Getenv(framework.EnvKubeconfig), PrometheusURL: os.Getenv(framework.EnvPrometheusURL),
		TargetsDir: os.Getenv(framework.EnvTargetsDir),
		RunDir:     runDir,
		Namespace:  "e2e-demo-" + name + "-" + id, ControllerNamespace: "e2e-demo-ctl-" + name + "-" + id,
		// A unique service label, so the analysis reads this run's metrics only.
		ServiceName: "mllp-listener-e2e-" + id,
		Bad:         bad,
		Out:         out,
		Timeout:     4 * time.Minute,
	}
	start := time.Now()
	s, err := scenario.Run(t.Context(), cfg)
	t.Logf("scenario (%s, %s):\n%s", name, time.Since(start).Round(time.Second), out.String())
	if err != nil {
		dumpLogs(t, runDir)
		t.Fatalf("scenario: %v", err)
	}
	return s
}

// dumpLogs prints the tail of every process log of a failed run.
func dumpLogs(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Logf("--- %s ---\n%s", filepath.Base(l), b)
	}
}

func assertNoLossNoReorder(t *testing.T, s *summary.Summary) {
	t.Helper()
	if s.Sent < 1000 {
		t.Errorf("only %d messages sent", s.Sent)
	}
	if s.Lost != 0 {
		t.Errorf("lost %d messages (sent but neither ACKed nor received)", s.Lost)
	}
	if s.Reordered != 0 {
		t.Errorf("%d messages reordered per patient", s.Reordered)
	}
}

// TestDemoGoodVersion: the canary goes 5 → 25 → 50 → 100 with the analysis
// passing and ends Healthy on the new version; the canary share each step
// received is close to its weight.
func TestDemoGoodVersion(t *testing.T) {
	s := runScenario(t, false)
	if s.Result != summary.Healthy {
		t.Fatalf("result %s, want Healthy (%s)", s.Result, s.OutcomeDetail)
	}
	assertNoLossNoReorder(t, s)
	seen := map[int32]bool{}
	for _, st := range s.Steps {
		seen[st.Weight] = true
		// Steps long enough to measure: the share the listeners saw is near the weight.
		if st.Received >= 500 && st.Weight > 0 && st.Weight < 100 {
			if d := st.Share() - float64(st.Weight); d > 5 || d < -5 {
				t.Errorf("step %d at weight %d: listeners saw %.1f%% canary", st.Index, st.Weight, st.Share())
			}
		}
	}
	for _, w := range []int32{5, 25, 50, 100} {
		if !seen[w] {
			t.Errorf("the rollout never ran at weight %d (steps %+v)", w, s.Steps)
		}
	}
	for _, m := range s.Analysis {
		if m.Phase == "Failed" || m.Phase == "Error" {
			t.Errorf("analysis %s/%s %s: %s", m.Run, m.Metric, m.Phase, m.Value)
		}
	}
}

// TestDemoBadVersion: the bad version's listeners ACK 20 ms late; the p99
// ACK-latency analysis fails and the rollout aborts back to stable.
func TestDemoBadVersion(t *testing.T) {
	s := runScenario(t, true)
	if s.Result != summary.RolledBack {
		t.Fatalf("result %s, want RolledBack (%s)", s.Result, s.OutcomeDetail)
	}
	assertNoLossNoReorder(t, s)
	failed := false
	for _, m := range s.Analysis {
		if m.Metric == "ack-latency" && m.Phase == "Failed" {
			failed = true
		}
	}
	if !failed {
		t.Errorf("no Failed ack-latency analysis: %+v", s.Analysis)
	}
	if !strings.Contains(s.OutcomeDetail, "aborted") {
		t.Errorf("outcome %q", s.OutcomeDetail)
	}
}
