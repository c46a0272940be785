// Command nerve-demo is the demo's one program (`make demo`, hack/demo/run.sh):
//
//	nerve-demo run [flags]               the scenario on the local control plane (hack/demo/scenario)
//	nerve-demo summary [--expect R] DIR  a run's summary, computed from its logs
//	nerve-demo generator [flags]         HL7 traffic through the proxy (started by run)
//	nerve-demo launcher [flags]          one listener per Ready pod (started by run)
//	nerve-demo listener [flags]          one pod's MLLP backend (started by the launcher)
//
// Exit status: 0 on success, 1 when the command fails (for run and summary:
// when the result is not the expected one or a message was lost), 2 for
// bad usage.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(dispatch(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
