package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
)

// RunOptions is everything nerve-mllp-proxy's flags configure.
type RunOptions struct {
	Listen      string // plain MLLP listen address
	TLSListen   string // MLLP over TLS listen address
	TLSCert     string
	TLSKey      string
	MetricsAddr string // /metrics, /healthz, /readyz, /route
	// Watch mode (Route set) or static mode (ConfigFile set).
	Kubeconfig   string
	Namespace    string
	Route        string
	ConfigFile   string
	AddressMap   AddressMap
	ReplicaName  string
	DrainTimeout time.Duration
	Proxy        Options
	Logger       *slog.Logger
}

// source feeds route snapshots into a proxy.
type source interface {
	Run(ctx context.Context, p *Proxy, applied chan<- struct{}) error
}

// Run serves until ctx ends (SIGTERM), then drains for DrainTimeout.
func Run(ctx context.Context, o RunOptions) error {
	if (o.Route == "") == (o.ConfigFile == "") {
		return errors.New("exactly one of --route (watch mode) and --config (static mode) is required")
	}
	if o.Listen == "" && o.TLSListen == "" {
		return errors.New("--listen or --tls-listen is required")
	}
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	m, err := NewMetrics(reg)
	if err != nil {
		return err
	}
	o.Proxy.Metrics, o.Proxy.Logger = m, o.Logger
	p, err := New(o.Proxy)
	if err != nil {
		return err
	}
	src, err := o.source()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srcDone := make(chan error, 1)
	applied := make(chan struct{})
	go func() { srcDone <- src.Run(ctx, p, applied) }()
	msrv, err := serveMetrics(o.MetricsAddr, reg, p, o.Logger)
	if err != nil {
		return err
	}
	defer func() { _ = msrv.Close() }()
	select {
	case <-applied:
	case err := <-srcDone:
		return fmt.Errorf("route source: %w", err)
	case <-ctx.Done():
		return nil
	}
	lns, err := o.listen()
	if err != nil {
		return err
	}
	for _, ln := range lns {
		go func() { _ = p.Serve(ln) }()
		o.Logger.Info("listening", "addr", ln.Addr().String())
	}
	return o.wait(ctx, cancel, p, srcDone)
}

func (o RunOptions) wait(ctx context.Context, cancel context.CancelFunc, p *Proxy, srcDone chan error) error {
	var srcErr error
	select {
	case <-ctx.Done():
	case srcErr = <-srcDone:
	}
	o.Logger.Info("draining", "timeout", o.DrainTimeout.String())
	dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), o.DrainTimeout)
	defer dcancel()
	err := p.Drain(dctx)
	cancel()
	if srcErr == nil {
		srcErr = <-srcDone // watch mode removes the replica's status entry here
	}
	return errors.Join(err, srcErr)
}

func (o RunOptions) source() (source, error) {
	if o.ConfigFile != "" {
		return &StaticSource{Path: o.ConfigFile, Map: o.AddressMap, Logger: o.Logger}, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	ns := o.Namespace
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil {
			return nil, fmt.Errorf("namespace: %w", err)
		}
	}
	slices, services, err := NewEndpointClients(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &WatchSource{Slices: slices, Services: services, Dynamic: dyn, Namespace: ns, Route: o.Route, Replica: o.ReplicaName,
		Map: o.AddressMap, Logger: o.Logger}, nil
}

func (o RunOptions) listen() ([]net.Listener, error) {
	var lns []net.Listener
	if o.Listen != "" {
		ln, err := net.Listen("tcp", o.Listen)
		if err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
		lns = append(lns, ln)
	}
	if o.TLSListen != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			closeAll(lns)
			return nil, fmt.Errorf("tls: %w", err)
		}
		ln, err := tls.Listen("tcp", o.TLSListen, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		if err != nil {
			closeAll(lns)
			return nil, fmt.Errorf("tls listen: %w", err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		_ = ln.Close()
	}
}

func serveMetrics(addr string, reg *prometheus.Registry, p *Proxy, log *slog.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !p.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("/route", routeHandler(p))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if addr == "" {
		return srv, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	log.Info("metrics listening", "addr", ln.Addr().String())
	go func() { _ = srv.Serve(ln) }()
	return srv, nil
}
