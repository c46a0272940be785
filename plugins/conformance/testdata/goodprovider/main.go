// Command goodprovider is a well-behaved test metric-provider plugin (test data).
package main

import (
	"context"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance/testdata/testimpl"
)

func main() {
	b := testimpl.Flags()
	plugins.ServeMetricProvider(context.Background(), testimpl.NewProvider(b), plugins.NewLogger("goodprovider"))
}
