// Command goodrouter is a well-behaved test traffic-router plugin (test data).
package main

import (
	"context"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance/testdata/testimpl"
)

func main() {
	b := testimpl.Flags()
	plugins.ServeTrafficRouter(context.Background(), testimpl.NewRouter(b), plugins.NewLogger("goodrouter"))
}
