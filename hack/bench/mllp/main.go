// Command mllp is the load driver of `make bench-mllp` (hack/bench/mllp.sh).
//
//	mllp backend --addr 127.0.0.1:25751 --addr 127.0.0.1:25752   # ACK backends
//	mllp load --target direct=127.0.0.1:25751 --target haproxy=... --n 1,8,32 --rounds 3
//
// load runs closed-loop senders (one message in flight per connection, ~1 KB
// ADT/ORU messages) against each target in alternating rounds, prints msg/s,
// p50/p99 and (with --pid) the target process's CPU per message for each
// run, then the per-target medians, the latency each hop adds over the
// direct path in the same round (median over rounds), and the lines
// `mllp-vs-haproxy: N=1 x.xx N=8 x.xx ...` (median over rounds of nerve-w5
// msg/s ÷ haproxy msg/s) and `mllp-added-p99: N=1 nerve +a haproxy +b ...`.
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
	target    string
	n, round  int
	rate      float64
	p50, p99  time.Duration
	cpuPerMsg time.Duration // target process CPU per message (0: no --pid)
}

// procCPU returns a process's user+system CPU time from /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s) // f[0] is field 3 (state); utime and stime are fields 14 and 15
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return time.Duration(u+k) * 10 * time.Millisecond, nil // USER_HZ is 100 on Linux
}

func load(ctx context.Context, args []string) error {
	fs := pflag.NewFlagSet("load", pflag.ContinueOnError)
	tflags := fs.StringArray("target", nil, "name=addr (repeatable; order = run order)")
	ns := fs.IntSlice("n", []int{1, 8, 32}, "sender counts")
	rounds := fs.Int("rounds", 3, "alternating rounds")
	dur := fs.Duration("duration", 3*time.Second, "run length per row")
	warm := fs.Duration("warmup", 500*time.Millisecond, "excluded warm-up per row")
	size := fs.Int("size", 1000, "message size in bytes")
	pflags := fs.StringArray("pid", nil, "name=pid of a target's process, to report its CPU per message (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pids := map[string]int{}
	for _, p := range *pflags {
		name, v, ok := strings.Cut(p, "=")
		pid, err := strconv.Atoi(v)
		if !ok || err != nil {
			return fmt.Errorf("--pid %q: want name=pid", p)
		}
		pids[name] = pid
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
				rw, err := runRow(ctx, t, n, r, *dur, *warm, *size, pids[t.name])
				if err != nil {
					return fmt.Errorf("%s N=%d: %w", t.name, n, err)
				}
				fmt.Printf("round %d  %-10s N=%-3d %9.0f msg/s  p50 %8s  p99 %8s%s\n", r, t.name, n, rw.rate, us(rw.p50), us(rw.p99), cpuText(rw.cpuPerMsg))
				rows = append(rows, rw)
			}
		}
	}
	summarise(rows, targets, *ns, *rounds)
	return nil
}

func runRow(ctx context.Context, t target, n, round int, dur, warm time.Duration, size, pid int) (row, error) {
	cpu0 := make(chan time.Duration, 1) // the process's CPU when the warm-up ends
	if pid > 0 {
		if _, err := procCPU(pid); err != nil {
			return row{}, err
		}
		time.AfterFunc(warm, func() { c, _ := procCPU(pid); cpu0 <- c })
	}
	res, err := mllptest.RunSenders(ctx, mllptest.SenderOptions{Addr: t.addr, Senders: n, Duration: dur, Warmup: warm,
		Pool: 256, Gen: mllptest.GenOptions{Seed: uint64(round), Patients: 1000, TargetSize: size,
			Types: []string{"ADT^A01", "ORU^R01"}}})
	if err != nil {
		return row{}, err
	}
	if res.Errors > 0 || res.NAKs > 0 {
		return row{}, fmt.Errorf("%d errors, %d NAKs", res.Errors, res.NAKs)
	}
	rw := row{target: t.name, n: n, round: round, rate: res.Rate(), p50: res.Quantile(0.5), p99: res.Quantile(0.99)}
	if pid > 0 && res.Acked > 0 {
		cpu1, err := procCPU(pid)
		if err != nil {
			return row{}, err
		}
		rw.cpuPerMsg = (cpu1 - <-cpu0) / time.Duration(res.Acked) // CPU after the warm-up ÷ messages ACKed after it
	}
	return rw, nil
}

func cpuText(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return fmt.Sprintf("  cpu %5.1f µs/msg", float64(d.Nanoseconds())/1000)
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
	fmt.Println("\nmedian over rounds (added = p50/p99 minus the direct path's in the same round):")
	for _, n := range ns {
		for _, t := range targets {
			var rate, p50, p99, a50, a99, cpu []float64
			for _, r := range rows {
				if r.target != t.name || r.n != n {
					continue
				}
				rate, p50, p99 = append(rate, r.rate), append(p50, float64(r.p50)), append(p99, float64(r.p99))
				if d, ok := lookup(rows, "direct", n, r.round); ok {
					a50, a99 = append(a50, float64(r.p50-d.p50)), append(a99, float64(r.p99-d.p99))
				}
				if r.cpuPerMsg > 0 {
					cpu = append(cpu, float64(r.cpuPerMsg))
				}
			}
			added := ""
			if t.name != "direct" && len(a50) > 0 {
				added = fmt.Sprintf("  added p50 %9s  p99 %9s", plus(median(a50)), plus(median(a99)))
			}
			fmt.Printf("  %-10s N=%-3d %9.0f msg/s  p50 %8s  p99 %8s%s%s\n", t.name, n, median(rate),
				us(time.Duration(median(p50))), us(time.Duration(median(p99))), added, cpuText(time.Duration(median(cpu))))
		}
	}
	ratio, addedP99 := []string{}, []string{}
	for _, n := range ns {
		var ratios, nerve99, ha99 []float64
		for r := 1; r <= rounds; r++ {
			nv, ok1 := lookup(rows, "nerve-w5", n, r)
			ha, ok2 := lookup(rows, "haproxy", n, r)
			if ok1 && ok2 && ha.rate > 0 {
				ratios = append(ratios, nv.rate/ha.rate)
			}
			if d, ok := lookup(rows, "direct", n, r); ok && ok1 && ok2 {
				nerve99, ha99 = append(nerve99, float64(nv.p99-d.p99)), append(ha99, float64(ha.p99-d.p99))
			}
		}
		ratio = append(ratio, fmt.Sprintf("N=%d %.2f", n, median(ratios)))
		addedP99 = append(addedP99, fmt.Sprintf("N=%d nerve %s haproxy %s", n, plus(median(nerve99)), plus(median(ha99))))
	}
	fmt.Println("mllp-vs-haproxy: " + strings.Join(ratio, " "))
	fmt.Println("mllp-added-p99: " + strings.Join(addedP99, "  "))
}

// plus formats a latency difference (nanoseconds) with its sign, in ms.
func plus(ns float64) string {
	s := us(time.Duration(ns))
	if ns >= 0 {
		s = "+" + s
	}
	return s
}

func lookup(rows []row, name string, n, round int) (row, bool) {
	for _, r := range rows {
		if r.target == name && r.n == n && r.round == round {
			return r, true
		}
	}
	return row{}, false
}
