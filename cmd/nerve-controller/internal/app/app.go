package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/hashicorp/go-hclog"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/nerve-rollouts/nerve/plugins/host"
	"github.com/nerve-rollouts/nerve/rollout"
	"github.com/nerve-rollouts/nerve/rollout/kube"
)

// LeaseName is the leader-election Lease (distinct from Argo's, so both controllers can run).
const LeaseName = "nerve-controller-lock"

// Run runs the controller until ctx ends.
func Run(ctx context.Context, o *Options) error {
	logger := klog.FromContext(ctx)
	if err := tuneGC(o); err != nil {
		return err
	}
	metrics := rollout.NewMetrics()
	cfg, err := restConfig(o, metrics)
	if err != nil {
		return err
	}
	client, err := kube.New(cfg, rollout.FieldManager)
	if err != nil {
		return err
	}
	h := host.New(host.Options{AllowUnverified: o.AllowUnverified, CallTimeout: o.PluginCallTimeout,
		WorkDir: o.PluginWorkDir, Logger: hclog.New(&hclog.LoggerOptions{Name: "plugins", Output: os.Stderr, Level: hclog.Info, JSONFormat: true})})
	defer h.Close()
	dirReg := host.Registry{}
	if o.PluginDir != "" {
		if dirReg, err = host.LoadDir(ctx, o.PluginDir); err != nil {
			return fmt.Errorf("plugin dir %s: %w", o.PluginDir, err)
		}
	}
	ctrl := rollout.NewController(ctx, rollout.Config{Client: client, Plugins: h,
		Namespace: o.Namespace, InstanceID: o.InstanceID, Metrics: metrics})
	w := &registryWatcher{host: h, dir: dirReg, onChange: ctrl.ResyncAll}
	if err := watchRegistry(ctx, client, o.ControllerNamespace, w); err != nil {
		return err
	}
	srvErr := serve(ctx, o.MetricsAddr, metrics.Handler())
	run := func(ctx context.Context) {
		if err := ctrl.Run(ctx, o.Workers); err != nil {
			logger.Error(err, "controller stopped")
		}
	}
	lost := make(chan error, 1)
	if !o.LeaderElect {
		go run(ctx)
	} else if err := elect(ctx, o, client, run, lost); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-srvErr:
		return err
	case err := <-lost:
		return err
	}
}

// tuneGC applies the collector target and the soft memory limit.
func tuneGC(o *Options) error {
	debug.SetGCPercent(o.GCPercent)
	if o.MemoryLimit == "" {
		return nil
	}
	q, err := resource.ParseQuantity(o.MemoryLimit)
	if err != nil || q.Sign() <= 0 {
		return fmt.Errorf("--memory-limit %q: want a positive quantity such as 200Mi", o.MemoryLimit)
	}
	debug.SetMemoryLimit(q.Value())
	return nil
}

func restConfig(o *Options, m *rollout.Metrics) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if o.Kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	} else {
		cfg, err = rest.InClusterConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes config: %w", err)
	}
	cfg.QPS, cfg.Burst = o.QPS, o.Burst
	cfg.UserAgent = "nerve-controller"
	cfg.Wrap(m.WrapTransport)
	return cfg, nil
}

// elect runs fn while holding the Lease; it returns when ctx ends. It works out of cluster too.
// Losing the Lease while ctx is live is reported on lost: the process must exit, as another
// replica now reconciles.
func elect(ctx context.Context, o *Options, client *kube.Client, fn func(context.Context), lost chan<- error) error {
	id, err := os.Hostname()
	if err != nil {
		id = "nerve"
	}
	id += "_" + rand.String(8)
	name := LeaseName
	if o.InstanceID != "" {
		name += "-" + o.InstanceID
	}
	logger := klog.FromContext(ctx)
	le := &kube.LeaderElection{
		Leases: client.Leases, Namespace: o.ControllerNamespace, Name: name, Identity: id, ReleaseOnCancel: true,
		LeaseDuration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod,
		OnStartedLeading: fn,
		OnStoppedLeading: func() {
			logger.Info("stopped leading")
			if ctx.Err() == nil {
				lost <- errors.New("lost the leader election lease")
			}
		},
		OnNewLeader: func(l string) { logger.Info("leader", "identity", l) },
	}
	if err := le.Validate(); err != nil {
		return err
	}
	go func() { _ = le.Run(ctx) }() // Run fails only on Validate
	return nil
}

// serve runs the /metrics and /healthz server; its error arrives on the returned channel.
func serve(ctx context.Context, addr string, metrics http.Handler) <-chan error {
	errc := make(chan error, 1)
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	debugHandlers(mux)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("metrics server: %w", err)
		}
	}()
	return errc
}
