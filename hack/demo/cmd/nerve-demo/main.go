// Command nerve-demo runs the demo scenario (hack/demo/scenario) on the local
// control plane: `make demo` (hack/demo/run.sh) builds it and runs it with the
// environment of .cluster/env. It exits 1 when the result is not the
// expected one (Healthy, or RolledBack with --bad) or a message was lost.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/nerve-rollouts/nerve/hack/demo/scenario"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "nerve-demo:", err)
		os.Exit(1)
	}
}

func run() error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	cfg := scenario.Config{Out: os.Stdout}
	pflag.BoolVar(&cfg.Bad, "bad", false, "ship a version whose listeners ACK 20 ms late: expect the analysis to fail and the rollout to roll back")
	pflag.StringVar(&cfg.Repo, "repo", wd, "repository root")
	pflag.StringVar(&cfg.Bin, "bin", filepath.Join(wd, "bin"), "nerve's binaries (make build)")
	pflag.StringVar(&cfg.DemoBin, "demo-bin", filepath.Join(wd, ".demo", "bin"), "the demo's binaries")
	pflag.StringVar(&cfg.RunDir, "run-dir", filepath.Join(wd, ".demo", "run-"+time.Now().UTC().Format("20060102T150405Z")), "directory for the run's logs")
	pflag.StringVar(&cfg.PidDir, "pid-dir", "", "directory for pid files (hack/demo/down.sh reads .demo/pids)")
	pflag.StringVar(&cfg.Namespace, "namespace", "clinical-ingestion", "namespace of the Rollout")
	pflag.StringVar(&cfg.ControllerNamespace, "controller-namespace", "nerve-system", "namespace of the controller's argo-rollouts-config")
	pflag.StringVar(&cfg.ServiceName, "service-name", scenario.SeedServiceName, "metrics label service= and the analysis argument")
	pflag.IntVar(&cfg.Senders, "senders", 4, "HL7 senders (connections)")
	pflag.IntVar(&cfg.Patients, "patients", 2000, "synthetic patients")
	pflag.Float64Var(&cfg.Rate, "rate", 100, "total HL7 messages per second")
	pflag.DurationVar(&cfg.Timeout, "timeout", 4*time.Minute, "how long the canary may take")
	pflag.BoolVar(&cfg.KeepNamespaces, "keep", false, "keep the namespaces at the end (make demo-down deletes them)")
	pflag.Parse()
	cfg.Kubeconfig = os.Getenv("KUBECONFIG")
	cfg.PrometheusURL = os.Getenv("PROMETHEUS_URL")
	cfg.TargetsDir = os.Getenv("PROMETHEUS_TARGETS_DIR")
	if cfg.Kubeconfig == "" || cfg.PrometheusURL == "" {
		return fmt.Errorf("KUBECONFIG and PROMETHEUS_URL must be set (source .cluster/env after make cluster-up)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err = scenario.Run(ctx, cfg)
	return err
}
