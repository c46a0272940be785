package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/nerve-rollouts/nerve/hack/demo/scenario"
)

// setupRun is `nerve-demo run`: the whole scenario with the environment of
// .cluster/env (KUBECONFIG, PROMETHEUS_URL, PROMETHEUS_TARGETS_DIR).
func setupRun(fs *pflag.FlagSet, stdout io.Writer) func(context.Context, []string) error {
	cfg := scenario.Config{Out: stdout}
	wd, wdErr := os.Getwd()
	fs.BoolVar(&cfg.Bad, "bad", false, "ship a version whose listeners ACK 20 ms late: expect the analysis to fail and the rollout to roll back")
	fs.StringVar(&cfg.Repo, "repo", wd, "repository root")
	fs.StringVar(&cfg.Bin, "bin", filepath.Join(wd, "bin"), "nerve's binaries (make build)")
	fs.StringVar(&cfg.DemoBin, "demo-bin", filepath.Join(wd, ".demo", "bin"), "directory holding the nerve-demo program")
	fs.StringVar(&cfg.RunDir, "run-dir", filepath.Join(wd, ".demo", "run-"+time.Now().UTC().Format("20060102T150405Z")), "directory for the run's logs")
	fs.StringVar(&cfg.PidDir, "pid-dir", "", "directory for pid files (hack/demo/down.sh reads .demo/pids)")
	fs.StringVar(&cfg.Namespace, "namespace", "clinical-ingestion", "namespace of the Rollout")
	fs.StringVar(&cfg.ControllerNamespace, "controller-namespace", "nerve-system", "namespace of the controller's argo-rollouts-config")
	fs.StringVar(&cfg.ServiceName, "service-name", scenario.SeedServiceName, "metrics label service= and the analysis argument")
	fs.IntVar(&cfg.Senders, "senders", 4, "HL7 senders (connections)")
	fs.IntVar(&cfg.Patients, "patients", 2000, "synthetic patients")
	fs.Float64Var(&cfg.Rate, "rate", 100, "total HL7 messages per second")
	fs.DurationVar(&cfg.Timeout, "timeout", 4*time.Minute, "how long the canary may take")
	fs.BoolVar(&cfg.KeepNamespaces, "keep", false, "keep the namespaces at the end (make demo-down deletes them)")
	return func(ctx context.Context, _ []string) error {
		if wdErr != nil {
			return wdErr
		}
		cfg.Kubeconfig = os.Getenv("KUBECONFIG")
		cfg.PrometheusURL = os.Getenv("PROMETHEUS_URL")
		cfg.TargetsDir = os.Getenv("PROMETHEUS_TARGETS_DIR")
		if cfg.Kubeconfig == "" || cfg.PrometheusURL == "" {
			return fmt.Errorf("KUBECONFIG and PROMETHEUS_URL must be set (source .cluster/env after make cluster-up)")
		}
		_, err := scenario.Run(ctx, cfg)
		return err
	}
}
