// Command demo-listener is one MLLP backend of the demo (one per Ready pod,
// started by demo-launcher): it prints "listening <addr>" once it accepts,
// ACKs every message and logs every receipt; SIGTERM drains and exits.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/nerve-rollouts/nerve/hack/demo/eventlog"
	"github.com/nerve-rollouts/nerve/hack/demo/listener"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo-listener:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg listener.Config
	var addr, logPath string
	var delayMS int
	pflag.StringVar(&addr, "listen", "127.0.0.1:0", "address to listen on (127.0.0.1 only)")
	pflag.StringVar(&logPath, "log", "", "event log file (JSON lines)")
	pflag.StringVar(&cfg.Pod, "pod", "", "pod name this listener stands for")
	pflag.StringVar(&cfg.Hash, "hash", "", "the pod's rollouts-pod-template-hash")
	pflag.StringVar(&cfg.Version, "version", "", "the pod template's NERVE_DEMO_VERSION")
	pflag.IntVar(&delayMS, "ack-delay-ms", 0, "milliseconds added before every ACK")
	pflag.Float64Var(&cfg.ErrorRate, "error-rate", 0, "share of messages answered AE (0..1)")
	pflag.Parse()
	cfg.AckDelay = time.Duration(delayMS) * time.Millisecond
	if logPath == "" {
		return fmt.Errorf("--log is required")
	}
	log, err := eventlog.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", ln.Addr())
	return listener.New(cfg, log).Serve(ctx, ln)
}
