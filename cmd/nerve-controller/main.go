// Command nerve-controller runs nerve's rollout controller (Argo Rollouts-compatible canaries
// and AnalysisRuns, with routers and metric providers as plugins).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/nerve-rollouts/nerve/cmd/nerve-controller/internal/app"
)

func main() {
	o := app.NewOptions()
	fs := pflag.NewFlagSet("nerve-controller", pflag.ExitOnError)
	o.AddFlags(fs)
	klogFlags := flag.NewFlagSet("klog", flag.ExitOnError)
	klog.InitFlags(klogFlags)
	fs.AddGoFlagSet(klogFlags)
	_ = fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(klog.NewContext(ctx, klog.Background()), o); err != nil {
		fmt.Fprintln(os.Stderr, "nerve-controller:", err)
		os.Exit(1)
	}
}
