// Command demo-generator sends synthetic HL7 v2 traffic from several senders
// to the MLLP proxy and logs every send and ACK; SIGTERM stops new messages,
// finishes the ones in flight and exits.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/nerve-rollouts/nerve/hack/demo/eventlog"
	"github.com/nerve-rollouts/nerve/hack/demo/generator"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo-generator:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg generator.Config
	var logPath string
	pflag.StringVar(&cfg.Addr, "addr", "", "the proxy's MLLP address (127.0.0.1:port)")
	pflag.IntVar(&cfg.Senders, "senders", 4, "number of senders (connections, sending facilities)")
	pflag.IntVar(&cfg.Patients, "patients", 2000, "number of synthetic patients")
	pflag.Float64Var(&cfg.Rate, "rate", 100, "total messages per second")
	pflag.StringVar(&cfg.RunID, "run-id", "demo", "prefix of the message control ids")
	pflag.StringVar(&logPath, "log", "", "event log file (JSON lines)")
	pflag.Parse()
	if cfg.Addr == "" || logPath == "" {
		return fmt.Errorf("--addr and --log are required")
	}
	log, err := eventlog.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return generator.Run(ctx, cfg, log)
}
