// Command demo-summary computes a demo run's summary from its logs (the
// generator's, the listeners' and the scenario's) and exits 1 when the result
// is not the expected one or a message was lost.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/nerve-rollouts/nerve/hack/demo/summary"
)

func main() {
	expect := pflag.String("expect", summary.Healthy, "expected result: Healthy or RolledBack")
	pflag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: demo-summary [--expect Healthy|RolledBack] RUN_DIR")
		pflag.PrintDefaults()
	}
	pflag.Parse()
	if pflag.NArg() != 1 {
		pflag.Usage()
		os.Exit(2)
	}
	if _, err := summary.Run(pflag.Arg(0), *expect, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo-summary:", err)
		os.Exit(1)
	}
}
