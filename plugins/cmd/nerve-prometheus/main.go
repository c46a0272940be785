// Package main is the nerve-prometheus metric-provider plugin binary (Argo Rollouts plugin
// protocol). It reads each metric's config from provider.plugin[--name] (or a built-in
// provider.prometheus block); see package metricprovider/prometheus for the config reference.
// Nothing may be written to stdout: it carries go-plugin's handshake.
package main

import (
	"context"
	"os"

	"github.com/nerve-rollouts/nerve/metricprovider/prometheus"
	"github.com/nerve-rollouts/nerve/plugins"
)

func main() {
	name, code, ok := plugins.ParseName("nerve-prometheus", prometheus.DefaultName, "plugin name: the provider.plugin key whose config this plugin reads", os.Args[1:], os.Stderr)
	if !ok {
		os.Exit(code)
	}
	logger := plugins.NewLogger("nerve-prometheus")
	plugins.ServeMetricProvider(context.Background(), prometheus.New(prometheus.Options{Name: name, Logger: logger}), logger)
}
