package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/spf13/pflag"

	"github.com/nerve-rollouts/nerve/hack/demo/eventlog"
	"github.com/nerve-rollouts/nerve/hack/demo/listener"
)

// setupListener is `nerve-demo listener`: one pod's MLLP backend (started by
// the launcher). It prints "listening <addr>" once it accepts, ACKs every
// message and logs every receipt; SIGTERM drains and exits.
func setupListener(fs *pflag.FlagSet, stdout io.Writer) func(context.Context, []string) error {
	var cfg listener.Config
	addr := fs.String("listen", "127.0.0.1:0", "address to listen on (127.0.0.1 only)")
	logPath := fs.String("log", "", "event log file (JSON lines)")
	fs.StringVar(&cfg.Pod, "pod", "", "pod name this listener stands for")
	fs.StringVar(&cfg.Hash, "hash", "", "the pod's rollouts-pod-template-hash")
	fs.StringVar(&cfg.Version, "version", "", "the pod template's NERVE_DEMO_VERSION")
	delayMS := fs.Int("ack-delay-ms", 0, "milliseconds added before every ACK")
	fs.Float64Var(&cfg.ErrorRate, "error-rate", 0, "share of messages answered AE (0..1)")
	return func(ctx context.Context, _ []string) error {
		cfg.AckDelay = time.Duration(*delayMS) * time.Millisecond
		if *logPath == "" {
			return fmt.Errorf("--log is required")
		}
		log, err := eventlog.Create(*logPath)
		if err != nil {
			return err
		}
		defer log.Close()
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *addr)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(stdout, "listening %s\n", ln.Addr()); err != nil {
			return err
		}
		return listener.New(cfg, log).Serve(ctx, ln)
	}
}
