package conformance

import (
	"context"
	"testing"

	"github.com/nerve-rollouts/nerve/plugins"
)

// RunTrafficRouter runs the suite on a traffic-router binary from a plugin's tests: every
// failing method is a test error; every line is logged.
func RunTrafficRouter(t testing.TB, bin string, opts Options) *Report {
	t.Helper()
	opts.Kind = plugins.KindTrafficRouter
	return runT(t, bin, opts)
}

// RunMetricProvider runs the suite on a metric-provider binary (see RunTrafficRouter).
func RunMetricProvider(t testing.TB, bin string, opts Options) *Report {
	t.Helper()
	opts.Kind = plugins.KindMetricProvider
	return runT(t, bin, opts)
}

// runT runs the suite and reports to t.
func runT(t testing.TB, bin string, opts Options) *Report {
	t.Helper()
	ctx := context.Background()
	if d, ok := t.(interface{ Context() context.Context }); ok {
		ctx = d.Context()
	}
	rep, err := Run(ctx, bin, opts)
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	for _, r := range rep.Results {
		if r.Pass {
			t.Log(r)
		} else {
			t.Error(r)
		}
	}
	return rep
}
