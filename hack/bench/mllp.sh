#!/usr/bin/env bash
# make bench-mllp: nerve's MLLP proxy vs the direct path vs HAProxy `mode tcp`
# on loopback (docs: mllp.md §4), then the proxy and codec micro-benchmarks.
# Bounded: 5 targets x 4 sender counts x 3 alternating rounds x 3.5 s ≈ 3.5 min.
# HAProxy runs one thread (nbthread 1), nerve with the Go runtime's default
# GOMAXPROCS; each row also prints the proxy process's CPU per message
# (procfs), which is less sensitive to the noise of a shared box than msg/s.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=${BIN:-$ROOT/bin}
DUR=${MLLP_BENCH_DURATION:-3s}
ROUNDS=${MLLP_BENCH_ROUNDS:-3}

if ! command -v haproxy >/dev/null 2>&1; then
  echo "installing haproxy (Debian package)"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq haproxy >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq haproxy >/dev/null; fi
fi
HAPROXY=$(command -v haproxy)

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/mllpbench" ./hack/bench/mllp
PROXY=$BIN/nerve-mllp-proxy
[ -x "$PROXY" ] || { go build -o "$tmp/nerve-mllp-proxy" ./cmd/nerve-mllp-proxy; PROXY=$tmp/nerve-mllp-proxy; }

STABLE=127.0.0.1:25751 CANARY=127.0.0.1:25752
"$tmp/mllpbench" backend --addr $STABLE --addr $CANARY > "$tmp/backend.log" 2>&1 & pids+=($!)
"$HAPROXY" -db -f hack/bench/haproxy.cfg > "$tmp/haproxy.log" 2>&1 & pids+=($!)
cpu=(--pid haproxy=$!)
targets=(--target direct=$STABLE --target haproxy=127.0.0.1:25760)
port=25770
for w in 0 5 50; do
  printf 'service: mllp-bench\nstable: ["%s"]\ncanary: ["%s"]\nweight: %s\nstickyKey: pid3\n' $STABLE $CANARY $w > "$tmp/w$w.yaml"
  "$PROXY" --listen 127.0.0.1:$port --metrics-addr "" --config "$tmp/w$w.yaml" --ack-timeout 10s \
    > "$tmp/nerve-w$w.log" 2>&1 & pids+=($!)
  cpu+=(--pid nerve-w$w=$!)
  targets+=(--target nerve-w$w=127.0.0.1:$port)
  port=$((port+1))
done
for p in 25751 25752 25760 25770 25771 25772; do
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
done

echo "== MLLP loopback benchmark: $("$HAPROXY" -v | head -1 | cut -d' ' -f1-3), $(nproc) cores, ${DUR} per row, $ROUNDS rounds"
"$tmp/mllpbench" load "${targets[@]}" "${cpu[@]}" --n 1,8,16,32 --rounds "$ROUNDS" --duration "$DUR" --warmup 500ms
echo
echo "== proxy (one message in flight, in-process; allocs/op is the proxy's own) and codec micro-benchmarks"
go test -run '^$' -bench 'ProxyMessage' -benchmem -benchtime 2s ./router/mllp/proxy/ | grep -E '^Benchmark'
go test -run '^$' -bench . -benchmem -benchtime 1s ./router/mllp/codec/ | grep -E '^Benchmark'
