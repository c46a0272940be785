// Package main is the nerve-web metric-provider plugin binary (Argo Rollouts plugin protocol). It
// reads each metric's config from provider.plugin[--name] (or a built-in provider.web block); see
// package metricprovider/web for the config reference. Nothing may be written to stdout: it
// carries go-plugin's handshake.
package main

import (
	"context"
	"os"

	"github.com/nerve-rollouts/nerve/metricprovider/web"
	"github.com/nerve-rollouts/nerve/plugins"
)

func main() {
	name, code, ok := plugins.ParseName("nerve-web", web.DefaultName, "plugin name: the provider.plugin key whose config this plugin reads", os.Args[1:], os.Stderr)
	if !ok {
		os.Exit(code)
	}
	logger := plugins.NewLogger("nerve-web")
	plugins.ServeMetricProvider(context.Background(), web.New(web.Options{Name: name, Logger: logger}), logger)
}
