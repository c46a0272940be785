#!/usr/bin/env bash
# down.sh is `make demo-down`: it stops every process the demo left running (by the
# pid files in .demo/pids, each checked to still be a demo or nerve process), removes
# the demo's Prometheus scrape targets and deletes the demo's namespaces
# (clinical-ingestion and nerve-system, only when labelled nerve.io/demo=true).
# --processes-only skips the cluster part.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

processes_only=no
[[ "${1:-}" == --processes-only ]] && processes_only=yes

ours() { # ours PID: the pid runs one of the demo's or nerve's binaries
	local cmd
	cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	[[ "$cmd" == *demo-* || "$cmd" == *nerve-* || "$cmd" == *kubectl-nerve* ]]
}

stopped=0
if [[ -d .demo/pids ]]; then
	for f in .demo/pids/*.pid; do
		[[ -e "$f" ]] || continue
		pid=$(cat "$f")
		if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && ours "$pid"; then
			kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
			for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -KILL -- "-$pid" 2>/dev/null || true
			stopped=$((stopped + 1))
		fi
		rm -f "$f"
	done
	for f in .demo/pids/*.target; do
		[[ -e "$f" ]] || continue
		rm -f "$(cat "$f")" "$f"
	done
fi
echo "[demo-down] stopped $stopped process(es)"
[[ $processes_only == yes ]] && exit 0

if [[ -f .cluster/env ]]; then
	set -a
	# shellcheck disable=SC1091
	. .cluster/env
	set +a
	for ns in clinical-ingestion nerve-system; do
		if [[ "$(kubectl get ns "$ns" -o 'jsonpath={.metadata.labels.nerve\.io/demo}' 2>/dev/null)" == true ]]; then
			kubectl delete ns "$ns" --wait=false >/dev/null && echo "[demo-down] deleting namespace $ns"
		fi
	done
fi
