package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
)

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// command is one subcommand: it defines its flags on fs and returns the
// function that runs once they are parsed.
type command struct {
	name, usage string
	// signals: the command stops on SIGTERM/SIGINT through its ctx.
	signals bool
	setup   func(fs *pflag.FlagSet, stdout io.Writer) func(ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{name: "run", usage: "run [flags]", signals: true, setup: setupRun},
		{name: "summary", usage: "summary [--expect Healthy|RolledBack] RUN_DIR", setup: setupSummary},
		{name: "generator", usage: "generator --addr ADDR --log FILE [flags]", signals: true, setup: setupGenerator},
		{name: "launcher", usage: "launcher --address-map FILE --log-dir DIR [flags]", signals: true, setup: setupLauncher},
		{name: "listener", usage: "listener --log FILE [flags]", signals: true, setup: setupListener},
	}
}

// usageError is a usage error (exit status 2, the usage is printed).
type usageError string

func (e usageError) Error() string { return string(e) }

// dispatch runs the subcommand named by args[0] and returns the exit status.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.exec(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "nerve-demo: unknown command %q\n", args[0])
	printUsage(stderr)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  nerve-demo %s\n", c.usage)
	}
}

// exec parses the flags and runs the command.
func (c command) exec(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("nerve-demo "+c.name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nerve-demo %s\n", c.usage)
		fs.PrintDefaults()
	}
	run := c.setup(fs, stdout)
	if err := fs.Parse(args); errors.Is(err, pflag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	if c.signals {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
		defer stop()
	}
	err := run(ctx, fs.Args())
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "nerve-demo %s: %v\n", c.name, err)
		fs.Usage()
		return exitUsage
	case c.name == "run":
		fmt.Fprintln(stderr, "nerve-demo:", err)
	default:
		fmt.Fprintf(stderr, "nerve-demo %s: %v\n", c.name, err)
	}
	return exitFail
}
