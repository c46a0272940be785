// Command nerve-gatewayapi is nerve's Gateway API traffic-router plugin: an Argo Rollouts
// traffic-router plugin (hashicorp/go-plugin, net/rpc) serving router/gatewayapi. It reads its
// config under spec.strategy.canary.trafficRouting.plugins[--name] (default nerve/gatewayAPI;
// --name=argoproj-labs/gatewayAPI swaps in for the labs plugin). It never writes to stdout.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/router/gatewayapi"
)

func main() {
	opts, err := gatewayapi.ParseArgs(os.Args[1:], os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nerve-gatewayapi:", err)
		os.Exit(2)
	}
	logger := plugins.NewLogger("nerve-gatewayapi")
	opts.Logger = logger
	plugins.ServeTrafficRouter(context.Background(), gatewayapi.New(opts), logger)
}
