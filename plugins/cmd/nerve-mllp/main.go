// Command nerve-mllp is nerve's MLLP traffic-router plugin: an Argo Rollouts traffic-router
// plugin (hashicorp/go-plugin, net/rpc) serving router/mllp, which drives nerve-mllp-proxy
// replicas through their MLLPRoute. It reads its config under
// spec.strategy.canary.trafficRouting.plugins[--name] (default nerve/mllp), takes its
// Kubernetes config from KUBECONFIG or in-cluster, and never writes to stdout.
package main

import (
	"context"
	"os"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/router/mllp"
)

func main() {
	name, code, ok := plugins.ParseName("nerve-mllp", mllp.DefaultPluginName, "config key under trafficRouting.plugins (NS/NAME)", os.Args[1:], os.Stderr)
	if !ok {
		os.Exit(code)
	}
	logger := plugins.NewLogger("nerve-mllp")
	plugins.ServeTrafficRouter(context.Background(), mllp.New(mllp.Options{Name: name, Logger: logger}), logger)
}
