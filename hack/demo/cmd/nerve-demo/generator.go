package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/nerve-rollouts/nerve/hack/demo/eventlog"
	"github.com/nerve-rollouts/nerve/hack/demo/generator"
)

// setupGenerator is `nerve-demo generator`: synthetic HL7 v2 traffic from
// several senders to the MLLP proxy, every send and ACK logged; SIGTERM stops
// new messages and finishes the ones in flight.
func setupGenerator(fs *pflag.FlagSet, _ io.Writer) func(context.Context, []string) error {
	var cfg generator.Config
	fs.StringVar(&cfg.Addr, "addr", "", "the proxy's MLLP address (127.0.0.1:port)")
	fs.IntVar(&cfg.Senders, "senders", 4, "number of senders (connections, sending facilities)")
	fs.IntVar(&cfg.Patients, "patients", 2000, "number of synthetic patients")
	fs.Float64Var(&cfg.Rate, "rate", 100, "total messages per second")
	fs.StringVar(&cfg.RunID, "run-id", "demo", "prefix of the message control ids")
	logPath := fs.String("log", "", "event log file (JSON lines)")
	return func(ctx context.Context, _ []string) error {
		if cfg.Addr == "" || *logPath == "" {
			return fmt.Errorf("--addr and --log are required")
		}
		log, err := eventlog.Create(*logPath)
		if err != nil {
			return err
		}
		defer log.Close()
		return generator.Run(ctx, cfg, log)
	}
}
