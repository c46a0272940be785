#!/usr/bin/env bash
# down.sh stops exactly the processes up.sh started (by recorded pid), in reverse
# start order (etcd last), and removes the .cluster state.
# --keep-logs keeps .cluster/logs (used by up.sh after a failed start).
set -euo pipefail
# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STOP_TIMEOUT=${NERVE_CLUSTER_STOP_TIMEOUT:-15}
keep_logs=no
[[ "${1:-}" == "--keep-logs" ]] && keep_logs=yes

# stop_component sends SIGTERM to a component's recorded pid, waits, then SIGKILLs.
stop_component() {
	local c=$1 pid t0
	pid=$(component_pid "$c")
	[[ -n "$pid" ]] || return 0
	if ! component_alive "$c"; then
		rm -f "$PIDS_DIR/$c.pid"
		return 0
	fi
	t0=$(now_ms)
	kill -TERM "$pid" 2>/dev/null || true
	while pid_running "$pid"; do
		if (($(now_ms) - t0 > STOP_TIMEOUT * 1000)); then
			log "$c (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
			break
		fi
		sleep 0.1
	done
	rm -f "$PIDS_DIR/$c.pid"
	log "stopped $c (pid $pid) in $(elapsed "$t0")"
}

main() {
	local i start
	start=$(now_ms)
	for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
		stop_component "${COMPONENTS[i]}"
	done
	[[ -d "$STATE_DIR" ]] || { log "no cluster state at $STATE_DIR"; return 0; }
	if [[ "$keep_logs" == yes ]]; then
		find "$STATE_DIR" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
	else
		rm -rf "$STATE_DIR"
	fi
	log "cluster down in $(elapsed "$start")"
}

main "$@"
