// Package main is the nerve-prometheus metric-provider plugin binary (Argo Rollouts plugin
// protocol). It reads each metric's config from provider.plugin[--name] (or a built-in
// provider.prometheus block); see package metricprovider/prometheus for the config reference.
// Nothing may be written to stdout: it carries go-plugin's handshake.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/nerve-rollouts/nerve/metricprovider/prometheus"
	"github.com/nerve-rollouts/nerve/plugins"
)

func main() {
	flags := pflag.NewFlagSet("nerve-prometheus", pflag.ContinueOnError)
	flags.SetOutput(os.Stderr)
	name := flags.String("name", prometheus.DefaultName, "plugin name: the provider.plugin key whose config this plugin reads")
	if err := flags.Parse(os.Args[1:]); errors.Is(err, pflag.ErrHelp) {
		os.Exit(0)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "nerve-prometheus:", err)
		os.Exit(2)
	}
	logger := plugins.NewLogger("nerve-prometheus")
	impl := prometheus.New(prometheus.Options{Name: *name, Logger: logger})
	plugins.ServeMetricProvider(context.Background(), impl, logger)
}
