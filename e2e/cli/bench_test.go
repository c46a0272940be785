//go:build e2e

package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// BenchmarkGetRollout compares `kubectl nerve get rollout NAME` (rollout, ReplicaSets, pods
// and AnalysisRuns, rendered as a tree) with `kubectl get rollout NAME -o yaml` on the same
// cluster and object. It reports the mean wall time of each and their ratio (goal ≤ 1.5).
func BenchmarkGetRollout(b *testing.B) {
	env := framework.New(b)
	values := b.TempDir()
	if err := os.WriteFile(filepath.Join(values, "default"), []byte("0.001"), 0o644); err != nil {
		b.Fatal(err)
	}
	framework.StartController(b, env.Namespace)
	env.Apply(b, workflowManifest)
	path := pluginPath(b)
	ctx := b.Context()
	framework.Eventually(b, 90*time.Second, 500*time.Millisecond, func(ctx2 context.Context) (bool, error) {
		r := kubectl(ctx2, path, "nerve", "status", ro, "--watch=false", "-n", env.Namespace)
		return r.Code == 0, nil
	}, "rollout healthy")
	var nerve, plain time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if r := kubectl(ctx, path, "nerve", "get", "rollout", ro, "-n", env.Namespace); r.Code != 0 {
			b.Fatalf("kubectl nerve get: %s", r)
		}
		t1 := time.Now()
		if r := kubectl(ctx, path, "get", "rollout", ro, "-o", "yaml", "-n", env.Namespace); r.Code != 0 {
			b.Fatalf("kubectl get: %s", r)
		}
		nerve += t1.Sub(t0)
		plain += time.Since(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(nerve.Milliseconds())/n, "nerve-ms/op")
	b.ReportMetric(float64(plain.Milliseconds())/n, "kubectl-yaml-ms/op")
	b.ReportMetric(float64(nerve)/float64(plain), "ratio")
}
