// Command nerve-mllp-proxy is nerve's MLLP message-level weighted proxy: it
// routes each HL7 v2 message to the stable or canary backend by weight, match
// rules and a sticky key, following an MLLPRoute (watch mode) or a static
// file. See router/mllp/proxy and router/mllp/api.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/nerve-rollouts/nerve/router/mllp/codec"
	"github.com/nerve-rollouts/nerve/router/mllp/proxy"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	opts, err := parseFlags(os.Args[1:], log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nerve-mllp-proxy:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := proxy.Run(ctx, opts); err != nil {
		log.Error("exit", "error", err.Error())
		os.Exit(1)
	}
}

func parseFlags(args []string, log *slog.Logger) (proxy.RunOptions, error) {
	o := proxy.RunOptions{Logger: log}
	fs := pflag.NewFlagSet("nerve-mllp-proxy", pflag.ContinueOnError)
	fs.StringVar(&o.Listen, "listen", "", "plain MLLP listen address, e.g. :2575")
	fs.StringVar(&o.TLSListen, "tls-listen", "", "MLLP over TLS listen address")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "TLS certificate file (PEM)")
	fs.StringVar(&o.TLSKey, "tls-key", "", "TLS key file (PEM)")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", ":9090", "metrics/health listen address (empty: off)")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig (watch mode; default in-cluster or $KUBECONFIG)")
	fs.StringVar(&o.Namespace, "namespace", "", "namespace of the MLLPRoute (default from kubeconfig)")
	fs.StringVar(&o.Route, "route", "", "MLLPRoute name to follow (watch mode)")
	fs.StringVar(&o.ConfigFile, "config", "", "static config file, reloaded on change (static mode)")
	amFile := fs.String("address-map", "", "file of from=to address rewrites (pod IP[:port] to host:port)")
	amFlag := fs.String("address-map-flag", "", "comma-separated from=to address rewrites")
	host, _ := os.Hostname()
	if pod := os.Getenv("POD_NAME"); pod != "" {
		host = pod
	}
	fs.StringVar(&o.ReplicaName, "replica-name", host, "this replica's name in the route status")
	fs.DurationVar(&o.Proxy.AckTimeout, "ack-timeout", 10*time.Second, "wait this long for a backend ACK")
	fs.DurationVar(&o.Proxy.FrameTimeout, "frame-timeout", 60*time.Second, "a started client frame must complete within")
	fs.DurationVar(&o.Proxy.DialTimeout, "dial-timeout", 2*time.Second, "upstream connect timeout")
	fs.IntVar(&o.Proxy.MaxFrame, "max-frame", codec.DefaultMaxFrame, "maximum frame payload in bytes")
	fs.BoolVar(&o.Proxy.Lenient, "lenient", false, "accept an end block without the trailing CR")
	fs.IntVar(&o.Proxy.EventLoops, "event-loops", 0, "serve plain-TCP clients on this many epoll event loops (Linux; e.g. one per core) instead of a goroutine per session (0)")
	fs.DurationVar(&o.DrainTimeout, "drain-timeout", 30*time.Second, "on SIGTERM, finish in-flight messages for up to")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	am, err := proxy.ParseAddressMap(*amFlag)
	if err != nil {
		return o, err
	}
	if *amFile != "" {
		fm, err := proxy.LoadAddressMap(*amFile)
		if err != nil {
			return o, err
		}
		am = fm.Merge(am)
	}
	o.AddressMap = am
	return o, nil
}
