// Command mllp is the load driver of `make bench-mllp` (hack/bench/mllp.sh).
//
//	mllp backend --addr 127.0.0.1:25751 --addr 127.0.0.1:25752   # ACK backends
//	mllp load --target direct=127.0.0.1:25751 --target haproxy=... --n 1,8,32 --rounds 3
//
// load runs closed-loop senders (one message in flight per connection, ~1 KB
// ADT/ORU messages) against each target in alternating rounds, prints msg/s
// and p50/p99 per run, the per-target medians, and the line
// `mllp-vs-haproxy: N=1 x.xx N=8 x.xx N=32 x.xx` (median over rounds of
// nerve-w5 msg/s ÷ haproxy msg/s).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: mllp backend|load [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "backend":
		err = backend(ctx, os.Args[2:])
	case "load":
		err = load(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mllp bench:", err)
		os.Exit(1)
	}
}

func backend(ctx context.Context, args []string) error {
	fs := pflag.NewFlagSet("backend", pflag.ContinueOnError)
	addrs := fs.StringArray("addr", nil, "listen address (repeatable)")
	delay := fs.Duration("delay", 0, "ACK delay")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var bs []*mllptest.Backend
	for i, a := range *addrs {
		b, err := mllptest.NewBackend(mllptest.BackendOptions{Name: fmt.Sprint(i), Addr: a, Delay: *delay})
		if err != nil {
			return err
		}
		bs = append(bs, b)
	}
	<-ctx.Done()
	for _, b := range bs {
		fmt.Printf("backend %s received %d\n", b.Addr(), b.Count())
		_ = b.Close()
	}
	return nil
}

type target struct{ name, addr string }

type row struct {
	target   string
	n, round int
	rate     float64
	p50, p99 time.Duration
}

func load(ctx context.Context, args []string) error {
	fs := pflag.NewFlagSet("load", pflag.ContinueOnError)
	tflags := fs.StringArray("target", nil, "name=addr (repeatable; order = run order)")
	ns := fs.IntSlice("n", []int{1, 8, 32}, "sender counts")
	rounds := fs.Int("rounds", 3, "alternating rounds")
	dur := fs.Duration("duration", 3*time.Second, "run length per row")
	warm := fs.Duration("warmup", 500*time.Millisecond, "excluded warm-up per row")
	size := fs.Int("size", 1000, "message size in bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var targets []target
	for _, t := range *tflags {
		name, addr, ok := strings.Cut(t, "=")
		if !ok {
			return fmt.Errorf("--target %q: want name=addr", t)
		}
		targets = append(targets, target{name, addr})
	}
	var rows []row
	for r := 1; r <= *rounds; r++ {
		for _, n := range *ns {
			for _, t := range targets {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				rw, err := runRow(ctx, t, n, r, *dur, *warm, *size)
				if err != nil {
					return fmt.Errorf("%s N=%d: %w", t.name, n, err)
				}
				fmt.Printf("round %d  %-10s N=%-3d %9.0f msg/s  p50 %8s  p99 %8s\n", r, t.name, n, rw.rate, us(rw.p50), us(rw.p99))
				rows = append(rows, rw)
			}
		}
	}
	summarise(rows, targets, *ns, *rounds)
	return nil
}

func runRow(ctx context.Context, t target, n, round int, dur, warm time.Duration, size int) (row, error) {
	res, err := mllptest.RunSenders(ctx, mllptest.SenderOptions{Addr: t.addr, Senders: n, Duration: dur, Warmup: warm,
		Pool: 256, Gen: mllptest.GenOptions{Seed: uint64(round), Patients: 1000, TargetSize: size,
			Types: []string{"ADT^A01", "ORU^R01"}}})
	if err != nil {
		return row{}, err
	}
	if res.Errors > 0 || res.NAKs > 0 {
		return row{}, fmt.Errorf("%d errors, %d NAKs", res.Errors, res.NAKs)
	}
	return row{target: t.name, n: n, round: round, rate: res.Rate(), p50: res.Quantile(0.5), p99: res.Quantile(0.99)}, nil
}

func us(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 3, 64) + "ms"
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func summarise(rows []row, targets []target, ns []int, rounds int) {
	fmt.Println("\nmedian over rounds:")
	for _, n := range ns {
		for _, t := range targets {
			var rate, p50, p99 []float64
			for _, r := range rows {
				if r.target == t.name && r.n == n {
					rate, p50, p99 = append(rate, r.rate), append(p50, float64(r.p50)), append(p99, float64(r.p99))
				}
			}
			fmt.Printf("  %-10s N=%-3d %9.0f msg/s  p50 %8s  p99 %8s\n", t.name, n, median(rate),
				us(time.Duration(median(p50))), us(time.Duration(median(p99))))
		}
	}
	parts := []string{}
	for _, n := range ns {
		var ratios []float64
		for r := 1; r <= rounds; r++ {
			nerve, ha := find(rows, "nerve-w5", n, r), find(rows, "haproxy", n, r)
			if nerve > 0 && ha > 0 {
				ratios = append(ratios, nerve/ha)
			}
		}
		parts = append(parts, fmt.Sprintf("N=%d %.2f", n, median(ratios)))
	}
	fmt.Println("mllp-vs-haproxy: " + strings.Join(parts, " "))
}

func find(rows []row, name string, n, round int) float64 {
	for _, r := range rows {
		if r.target == name && r.n == n && r.round == round {
			return r.rate
		}
	}
	return 0
}
