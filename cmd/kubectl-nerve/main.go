// Command kubectl-nerve is the `kubectl nerve` plugin: the rollout workflow (get, list, status,
// promote, abort, retry, pause, resume, restart, set image, undo, analysis, traffic, lint,
// plugins, doctor) for argoproj.io/v1alpha1 Rollouts. The command tree lives in internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // exec/OIDC auth providers of kubeconfigs

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/cli"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	flags := cli.NewConfigFlags(true)
	root := cli.NewRootCmd(streams, flags, cli.NewFactory(flags))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := root.ExecuteContext(ctx)
	stop()
	os.Exit(cli.Code(err, streams.ErrOut))
}
