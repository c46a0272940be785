# shellcheck shell=bash
# Shared settings for the local control plane scripts (sourced, not executed).
# Versions are pinned here once; the cache key names all of them.

K8S_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
GATEWAY_API_VERSION=v1.6.3

CLUSTER_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$CLUSTER_SCRIPTS/../.." && pwd)
STATE_DIR=${NERVE_CLUSTER_STATE:-$REPO_ROOT/.cluster}

GO=${GO:-go}
GO_VERSION=$("$GO" env GOVERSION)
CACHE_ROOT=${NERVE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/nerve}
CLUSTER_KEY=k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_${GO_VERSION}
CLUSTER_BIN=${CLUSTER_BIN_OVERRIDE:-$CACHE_ROOT/cluster/$CLUSTER_KEY}

# Ports (all on 127.0.0.1). NERVE_CLUSTER_PORT_OFFSET shifts all of them, so a
# second clone (e.g. CI on a developer's machine) can run beside a cluster that
# is already up; tests find the ports through .cluster/env and the kubeconfig.
PORT_OFFSET=${NERVE_CLUSTER_PORT_OFFSET:-$(sed -n 's/^NERVE_CLUSTER_PORT_OFFSET=//p' "$STATE_DIR/env" 2>/dev/null || true)}
PORT_OFFSET=${PORT_OFFSET:-0}
ETCD_CLIENT_PORT=$((2379 + PORT_OFFSET))
ETCD_PEER_PORT=$((2380 + PORT_OFFSET))
APISERVER_PORT=$((6443 + PORT_OFFSET))
KCM_PORT=$((10257 + PORT_OFFSET))
SCHEDULER_PORT=$((10259 + PORT_OFFSET))
KWOK_PORT=$((10247 + PORT_OFFSET))
PROMETHEUS_PORT=$((9090 + PORT_OFFSET))

# Start order; down.sh stops in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok prometheus)

# cluster_stamp prints the hash that decides whether the binary cache is valid.
cluster_stamp() {
	{
		cat "$CLUSTER_SCRIPTS/k8sbin/go.mod" "$CLUSTER_SCRIPTS/k8sbin/go.sum" \
			"$CLUSTER_SCRIPTS/etcdbin/go.mod" "$CLUSTER_SCRIPTS/etcdbin/go.sum" \
			"$CLUSTER_SCRIPTS/build.sh"
		echo "$GO_VERSION"
	} | sha256sum | cut -d' ' -f1
}

# cache_valid succeeds when the binary cache matches the current inputs.
cache_valid() {
	[[ -f "$CLUSTER_BIN/stamp" ]] && [[ "$(cat "$CLUSTER_BIN/stamp")" == "$(cluster_stamp)" ]]
}

# now_ms prints the wall clock in milliseconds.
now_ms() { date +%s%3N; }

# elapsed prints seconds since the given now_ms value, with one decimal.
elapsed() { local d=$(($(now_ms) - $1)); printf '%d.%01ds' $((d / 1000)) $(((d % 1000) / 100)); }

log() { printf '[cluster %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

PIDS_DIR=$STATE_DIR/pids
LOGS_DIR=$STATE_DIR/logs
PKI_DIR=$STATE_DIR/pki
KUBECONFIG_FILE=$STATE_DIR/kubeconfig
ENV_FILE=$STATE_DIR/env
PROM_DIR=$STATE_DIR/prometheus
PROM_TARGETS_DIR=$PROM_DIR/targets

# component_pid prints the recorded pid of a component (empty when none).
component_pid() {
	local f=$PIDS_DIR/$1.pid
	[[ -f "$f" ]] && cat "$f"
	return 0
}

# component_alive succeeds when the recorded pid of a component is running
# and is still that component's binary (guards against pid reuse).
component_alive() {
	local pid exe
	pid=$(component_pid "$1")
	[[ -n "$pid" ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	exe=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -d' ' -f1) || return 1
	[[ "$(basename "$exe")" == "$1" ]]
}

# pid_running succeeds while pid exists and is not a zombie (reparented
# processes stay zombies until PID 1 reaps them, which can take a second).
pid_running() {
	local state
	kill -0 "$1" 2>/dev/null || return 1
	state=$(sed -n 's/^[0-9]* (.*) \([A-Z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# port_of prints the 127.0.0.1 port a component listens on.
port_of() {
	case $1 in
	etcd) echo "$ETCD_CLIENT_PORT $ETCD_PEER_PORT" ;;
	kube-apiserver) echo "$APISERVER_PORT" ;;
	kube-controller-manager) echo "$KCM_PORT" ;;
	kube-scheduler) echo "$SCHEDULER_PORT" ;;
	kwok) echo "$KWOK_PORT" ;;
	prometheus) echo "$PROMETHEUS_PORT" ;;
	esac
}

# port_listener prints the ss line of whatever listens on the TCP port (empty when free).
port_listener() {
	ss -Hltnp "sport = :$1" 2>/dev/null || true
}
