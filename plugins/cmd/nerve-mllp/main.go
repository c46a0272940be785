// Command nerve-mllp is nerve's MLLP traffic-router plugin: an Argo Rollouts traffic-router
// plugin (hashicorp/go-plugin, net/rpc) serving router/mllp, which drives nerve-mllp-proxy
// replicas through their MLLPRoute. It reads its config under
// spec.strategy.canary.trafficRouting.plugins[--name] (default nerve/mllp), takes its
// Kubernetes config from KUBECONFIG or in-cluster, and never writes to stdout.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/router/mllp"
)

func main() {
	fs := pflag.NewFlagSet("nerve-mllp", pflag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	name := fs.String("name", mllp.DefaultPluginName, "config key under trafficRouting.plugins (NS/NAME)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "nerve-mllp:", err)
		os.Exit(2)
	}
	logger := plugins.NewLogger("nerve-mllp")
	plugins.ServeTrafficRouter(context.Background(), mllp.New(mllp.Options{Name: *name, Logger: logger}), logger)
}
