// Command demo-mllp-router is the demo's stand-in traffic-router plugin for
// the MLLP proxy (package hack/demo/mllpshim), registered as nerve/mllp only
// when bin/plugins/nerve-mllp is missing. Nothing may be written to stdout:
// it carries go-plugin's handshake.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nerve-rollouts/nerve/hack/demo/mllpshim"
	"github.com/nerve-rollouts/nerve/plugins"
)

func main() {
	flags := pflag.NewFlagSet("demo-mllp-router", pflag.ContinueOnError)
	flags.SetOutput(os.Stderr)
	name := flags.String("name", "nerve/mllp", "plugin name: the trafficRouting.plugins key whose config this plugin reads")
	if err := flags.Parse(os.Args[1:]); errors.Is(err, pflag.ErrHelp) {
		os.Exit(0)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "demo-mllp-router:", err)
		os.Exit(2)
	}
	logger := plugins.NewLogger("demo-mllp-router")
	client := func() (dynamic.Interface, error) {
		cfg, err := restConfig()
		if err != nil {
			return nil, err
		}
		return dynamic.NewForConfig(cfg)
	}
	plugins.ServeTrafficRouter(context.Background(), mllpshim.New(*name, client), logger)
}

// restConfig is $KUBECONFIG when set (the controller's environment), else in-cluster.
func restConfig() (*rest.Config, error) {
	if kc := os.Getenv("KUBECONFIG"); kc != "" {
		return clientcmd.BuildConfigFromFlags("", kc)
	}
	return rest.InClusterConfig()
}
