package main

import (
	"context"
	"io"

	"github.com/spf13/pflag"

	"github.com/nerve-rollouts/nerve/hack/demo/summary"
)

// setupSummary is `nerve-demo summary RUN_DIR`: the summary computed from a
// run's logs; it fails when the result is not the expected one or a message
// was lost.
func setupSummary(fs *pflag.FlagSet, stdout io.Writer) func(context.Context, []string) error {
	expect := fs.String("expect", summary.Healthy, "expected result: Healthy or RolledBack")
	return func(_ context.Context, args []string) error {
		if len(args) != 1 {
			return usageError("one RUN_DIR expected")
		}
		_, err := summary.Run(args[0], *expect, stdout)
		return err
	}
}
