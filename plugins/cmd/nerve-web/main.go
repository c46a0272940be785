// Package main is the nerve-web metric-provider plugin binary (Argo Rollouts plugin protocol). It
// reads each metric's config from provider.plugin[--name] (or a built-in provider.web block); see
// package metricprovider/web for the config reference. Nothing may be written to stdout: it
// carries go-plugin's handshake.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/nerve-rollouts/nerve/metricprovider/web"
	"github.com/nerve-rollouts/nerve/plugins"
)

func main() {
	flags := pflag.NewFlagSet("nerve-web", pflag.ContinueOnError)
	flags.SetOutput(os.Stderr)
	name := flags.String("name", web.DefaultName, "plugin name: the provider.plugin key whose config this plugin reads")
	if err := flags.Parse(os.Args[1:]); errors.Is(err, pflag.ErrHelp) {
		os.Exit(0)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "nerve-web:", err)
		os.Exit(2)
	}
	logger := plugins.NewLogger("nerve-web")
	plugins.ServeMetricProvider(context.Background(), web.New(web.Options{Name: *name, Logger: logger}), logger)
}
