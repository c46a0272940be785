// Command nerve-conformance drives an Argo Rollouts plugin binary (traffic router or metric
// provider) through every method over the real wire and prints one PASS/FAIL line per method.
// It exits 0 only when every line passes.
//
//	nerve-conformance [--kind trafficrouter|metricprovider] [--name NS/NAME --config JSON]
//	    [--functional] [--namespace NS] [--rollout NAME] [--stable-service S] [--canary-service C]
//	    [--weight N] [--run-uid UID] PLUGIN_BINARY [-- PLUGIN_ARGS...]
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run parses the flags, runs the suite and returns the exit code.
func run(ctx context.Context, args []string) int {
	opts, bin, err := parse(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nerve-conformance:", err)
		return 2
	}
	rep, err := conformance.Run(ctx, bin, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nerve-conformance:", err)
		return 2
	}
	if err := rep.Write(os.Stdout); err != nil {
		return 2
	}
	if !rep.Passed() {
		return 1
	}
	return 0
}

// parse reads the command line.
func parse(args []string) (conformance.Options, string, error) {
	fs := pflag.NewFlagSet("nerve-conformance", pflag.ContinueOnError)
	kind := fs.String("kind", "", "plugin kind: trafficrouter or metricprovider (default: detect by handshake)")
	name := fs.String("name", conformance.DefaultName, "plugin name NS/NAME: the config key under Plugins/Plugin")
	config := fs.String("config", "{}", "plugin config (JSON) placed under Plugins[name] / Plugin[name]")
	var o conformance.Options
	fs.BoolVar(&o.Functional, "functional", false, "also require the happy path (needs the plugin's environment)")
	fs.StringVar(&o.Namespace, "namespace", conformance.DefaultNamespace, "namespace of the Rollout/AnalysisRun")
	fs.StringVar(&o.Rollout, "rollout", conformance.DefaultRollout, "Rollout name")
	fs.StringVar(&o.StableService, "stable-service", conformance.DefaultStableService, "spec.strategy.canary.stableService")
	fs.StringVar(&o.CanaryService, "canary-service", conformance.DefaultCanaryService, "spec.strategy.canary.canaryService")
	fs.Int32Var(&o.Weight, "weight", conformance.DefaultWeight, "weight for SetWeight/VerifyWeight")
	runUID := fs.String("run-uid", conformance.DefaultRunUID, "uid of the AnalysisRun sent to metric providers (nerve-job owns its Jobs by it)")
	fs.StringVar(&o.SuccessCondition, "success-condition", "", "Metric successCondition (metric providers)")
	fs.StringVar(&o.FailureCondition, "failure-condition", "", "Metric failureCondition (metric providers)")
	fs.StringVar(&o.SHA256, "sha256", "", "expected sha256 of the binary (default: computed)")
	fs.DurationVar(&o.CallTimeout, "timeout", 30*time.Second, "timeout of each call")
	verbose := fs.Bool("v", false, "log the plugin's stderr")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: nerve-conformance [flags] PLUGIN_BINARY [-- PLUGIN_ARGS...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, "", err
	}
	if fs.NArg() < 1 {
		fs.Usage()
		return o, "", fmt.Errorf("missing PLUGIN_BINARY")
	}
	if !json.Valid([]byte(*config)) {
		return o, "", fmt.Errorf("--config is not valid JSON: %s", *config)
	}
	o.Kind, o.Name, o.Config, o.Args = plugins.Kind(*kind), *name, json.RawMessage(*config), fs.Args()[1:]
	o.RunUID = types.UID(*runUID)
	if *verbose {
		o.Logger = hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: os.Stderr, Level: hclog.Debug})
	}
	return o, fs.Arg(0), nil
}
