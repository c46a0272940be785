// Package main is the nerve-job metric-provider plugin binary (Argo Rollouts plugin protocol). It
// reads each metric's config from provider.plugin[--name] (or a built-in provider.job block) and
// runs it as a Kubernetes Job in the AnalysisRun's namespace; see package metricprovider/job. It
// uses KUBECONFIG (or ~/.kube/config), else the in-cluster service account. Nothing may be
// written to stdout: it carries go-plugin's handshake.
package main

import (
	"context"
	"os"

	"github.com/nerve-rollouts/nerve/metricprovider/job"
	"github.com/nerve-rollouts/nerve/plugins"
)

func main() {
	name, code, ok := plugins.ParseName("nerve-job", job.DefaultName, "plugin name: the provider.plugin key whose config this plugin reads", os.Args[1:], os.Stderr)
	if !ok {
		os.Exit(code)
	}
	logger := plugins.NewLogger("nerve-job")
	plugins.ServeMetricProvider(context.Background(), job.New(job.Options{Name: name, Logger: logger}), logger)
}
