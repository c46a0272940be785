// Package scenario is the demo's orchestration, shared by `make demo`
// (`nerve-demo run`, hack/demo/cmd/nerve-demo) and the headless e2e test (e2e/demo): on the
// local control plane it starts nerve's controller with the plugins
// registered through an argo-rollouts-config ConfigMap, the MLLP proxy, the
// pod launcher (one real MLLP listener per Ready pod) and a generator of HL7
// traffic from several senders; it applies the seed's mllp-listener Rollout
// and mllp-health-check AnalysisTemplate through the documented kustomize
// overlay, ships a new version (good or bad), shows `kubectl nerve get
// rollout -w` while the canary moves, and computes the summary from the
// logs.
package scenario

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nerve-rollouts/nerve/hack/demo/eventlog"
	"github.com/nerve-rollouts/nerve/hack/demo/summary"
)

// Names the scenario uses.
const (
	RolloutName  = "mllp-listener"
	RouteName    = "mllp-listener"
	PodSelector  = "app=mllp-listener"
	MLLPPort     = 2575
	ExamplesPath = "manifests/examples/mllp-listener"
)

// Config is one run of the scenario.
type Config struct {
	// Repo is the repository root; Bin holds nerve's binaries (bin/, with
	// plugins/), DemoBin the demo's nerve-demo program (its launcher,
	// listener and generator subcommands are the demo's processes).
	Repo, Bin, DemoBin string
	// Kubeconfig, PrometheusURL and TargetsDir come from .cluster/env.
	Kubeconfig, PrometheusURL, TargetsDir string
	// RunDir receives every log of the run; PidDir the pid files.
	RunDir, PidDir string
	// Namespace holds the Rollout (clinical-ingestion); ControllerNamespace
	// the controller's argo-rollouts-config (nerve-system).
	Namespace, ControllerNamespace string
	// ServiceName is the metrics label service= and the analysis argument
	// (the seed's mllp-listener; e2e uses a unique one).
	ServiceName string
	// Bad ships a version whose listeners ACK 20 ms late (expect RolledBack).
	Bad bool
	// Senders, Patients and Rate shape the HL7 traffic.
	Senders, Patients int
	Rate              float64
	// Out receives the narrative and the `kubectl nerve get rollout -w` view.
	Out io.Writer
	// Timeout bounds the canary (from the new version to its outcome).
	Timeout time.Duration
	// KeepNamespaces leaves the namespaces in place at the end.
	KeepNamespaces bool
}

// Expected is the result the run must reach.
func (c Config) Expected() string {
	if c.Bad {
		return summary.RolledBack
	}
	return summary.Healthy
}

func (c Config) withDefaults() Config {
	if c.Namespace == "" {
		c.Namespace = "clinical-ingestion"
	}
	if c.ControllerNamespace == "" {
		c.ControllerNamespace = "nerve-system"
	}
	if c.ServiceName == "" {
		c.ServiceName = SeedServiceName
	}
	if c.Senders <= 0 {
		c.Senders = 4
	}
	if c.Patients <= 0 {
		c.Patients = 2000
	}
	if c.Rate <= 0 {
		c.Rate = 100
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Timeout <= 0 {
		c.Timeout = 4 * time.Minute
	}
	if c.PidDir == "" {
		c.PidDir = filepath.Join(c.RunDir, "pids")
	}
	return c
}

type runner struct {
	cfg       Config
	runID     string
	client    kubernetes.Interface
	dyn       dynamic.Interface
	log       *eventlog.Writer
	procs     []*proc
	created   []string
	target    string
	proxyAddr string
	began     time.Time
}

// Run runs the whole scenario and returns the computed summary. The error
// is non-nil when the result is not the expected one, a message was lost,
// or a step of the scenario failed.
func Run(ctx context.Context, cfg Config) (*summary.Summary, error) {
	cfg = cfg.withDefaults()
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	defer r.log.Close()
	runErr := r.run(ctx)
	cleanupErr := r.cleanup(context.WithoutCancel(ctx))
	if runErr != nil {
		return nil, errors.Join(runErr, cleanupErr)
	}
	r.say("== summary (computed from the logs in %s)", cfg.RunDir)
	s, err := summary.Run(cfg.RunDir, cfg.Expected(), cfg.Out)
	return s, errors.Join(err, cleanupErr)
}

func newRunner(cfg Config) (*runner, error) {
	for _, d := range []string{cfg.RunDir, cfg.PidDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	rc, err := clientcmd.BuildConfigFromFlags("", cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	log, err := eventlog.Create(filepath.Join(cfg.RunDir, summary.ScenarioLog))
	if err != nil {
		return nil, err
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return &runner{cfg: cfg, runID: hex.EncodeToString(b), client: cs, dyn: dyn, log: log, began: time.Now()}, nil
}

// say prints one narrative line with the time since the start.
func (r *runner) say(format string, args ...any) {
	fmt.Fprintf(r.cfg.Out, "[demo +%5.1fs] %s\n", time.Since(r.began).Seconds(), fmt.Sprintf(format, args...))
}

func (r *runner) examples(sub string) string {
	return filepath.Join(r.cfg.Repo, ExamplesPath, sub)
}

// cleanup stops every process (newest first), removes the scrape target and
// deletes the namespaces this run created.
func (r *runner) cleanup(ctx context.Context) error {
	var errs []error
	for i := len(r.procs) - 1; i >= 0; i-- {
		if err := r.procs[i].stop(15 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	r.procs = nil
	if r.target != "" {
		if err := os.Remove(r.target); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
		_ = os.Remove(filepath.Join(r.cfg.PidDir, r.runID+".target"))
		r.target = ""
	}
	if err := os.RemoveAll(filepath.Join(r.cfg.RunDir, "plugins")); err != nil {
		errs = append(errs, err)
	}
	if !r.cfg.KeepNamespaces {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		errs = append(errs, r.deleteNamespaces(ctx))
	}
	return errors.Join(errs...)
}
