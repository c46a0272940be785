#!/usr/bin/env bash
# up.sh starts the local control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok with fake nodes) and Prometheus on 127.0.0.1, and writes
# .cluster/kubeconfig and .cluster/env. Idempotent: a running cluster is kept.
set -euo pipefail
# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

READY_TIMEOUT=${NERVE_CLUSTER_READY_TIMEOUT:-120}
# 12 x 250 pods: room for 300 two-replica Rollouts mid-update (up to 4 pods each) in
# make bench-controller, plus a previous round's namespace still terminating.
NODE_COUNT=12
NODE_PODS=250
TOTAL_START=$(now_ms)

phase() { log "phase $1: $(elapsed "$2")"; }

# ensure_packages installs the Debian packages up.sh needs (prometheus, openssl,
# curl, iproute2 for ss) when they are missing; nothing when all are present.
ensure_packages() {
	local missing=() sudo=() pair
	for pair in prometheus:prometheus openssl:openssl curl:curl ss:iproute2; do
		command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
	done
	((${#missing[@]} == 0)) && return 0
	if ((EUID != 0)); then
		command -v sudo >/dev/null || die "missing ${missing[*]} and not root (no sudo): install them with apt-get"
		sudo=(sudo)
	fi
	log "installing ${missing[*]} with apt-get"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# cluster_healthy succeeds when every component runs and the apiserver and Prometheus answer.
cluster_healthy() {
	local c
	[[ -f "$ENV_FILE" && -f "$KUBECONFIG_FILE" ]] || return 1
	for c in "${COMPONENTS[@]}"; do component_alive "$c" || return 1; done
	kubectl --kubeconfig "$KUBECONFIG_FILE" --request-timeout=5s get --raw /readyz >/dev/null 2>&1 || return 1
	curl -sf --max-time 5 "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null
}

# fail_component reports a component failure with the tail of its log, stops
# what this run started (logs kept) and exits non-zero.
fail_component() {
	local c=$1 why=$2
	printf '\n[cluster] ERROR: %s failed: %s\n' "$c" "$why" >&2
	if [[ -f "$LOGS_DIR/$c.log" ]]; then
		printf '[cluster] last 40 lines of %s:\n' "$LOGS_DIR/$c.log" >&2
		tail -n 40 "$LOGS_DIR/$c.log" >&2
	fi
	"$CLUSTER_SCRIPTS/down.sh" --keep-logs >&2 || true
	exit 1
}

# check_ports fails clearly when a port this cluster needs is taken.
check_ports() {
	local c p line
	for c in "${COMPONENTS[@]}"; do
		for p in $(port_of "$c"); do
			line=$(port_listener "$p")
			[[ -z "$line" ]] || die "port $p (for $c) is already in use: $line
  stop that process, run 'make cluster-down' in the checkout that owns it, or
  set NERVE_CLUSTER_PORT_OFFSET (e.g. 10000) to run a second cluster beside it"
		done
	done
}

# start_component runs a binary in its own session, recording its pid and log.
# As root the components run at nice $CLUSTER_NICE (default -5): they are the
# shared test fixture, and on a 2-core machine busy compiling, a starved
# apiserver makes every e2e test slow and flaky.
start_component() {
	local c=$1 bin=$2 prio=()
	shift 2
	((EUID == 0)) && prio=(nice -n "${CLUSTER_NICE:--5}")
	# fd 8 (the cluster-up lock) must not leak into the long-running processes.
	setsid nohup "${prio[@]}" "$bin" "$@" >"$LOGS_DIR/$c.log" 2>&1 </dev/null 8>&- &
	echo $! >"$PIDS_DIR/$c.pid"
	# setsid and nohup exec the binary; wait until the pid shows it.
	local i
	for ((i = 0; i < 50; i++)); do
		component_alive "$c" && return 0
		sleep 0.05
	done
	fail_component "$c" "process did not start"
}

# wait_ready polls a readiness command until it succeeds, the process dies or the timeout passes.
wait_ready() {
	local c=$1 t0
	shift
	t0=$(now_ms)
	while ! "$@" >/dev/null 2>&1; do
		component_alive "$c" || fail_component "$c" "process exited during startup"
		(($(now_ms) - t0 < READY_TIMEOUT * 1000)) || fail_component "$c" "not ready after ${READY_TIMEOUT}s"
		sleep 0.1
	done
	log "$c ready (pid $(component_pid "$c"), $(elapsed "$t0"))"
}

kc() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# gen_pki writes a CA, the apiserver serving cert, the admin client cert
# (system:masters) and the service-account key pair. EC P-256 keys: RSA key
# generation takes seconds on a loaded 2-core machine.
gen_pki() {
	local d=$PKI_DIR k
	mkdir -p "$d"
	for k in ca apiserver admin sa; do
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$k.key" 2>/dev/null
	done
	openssl pkey -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
	openssl req -x509 -new -key "$d/ca.key" -days 3650 -out "$d/ca.crt" -subj "/CN=nerve-local-ca" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' >"$d/apiserver.ext"
	printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n' >"$d/admin.ext"
	sign_cert apiserver "/CN=kube-apiserver"
	sign_cert admin "/O=system:masters/CN=nerve-admin"
	cat >"$KUBECONFIG_FILE" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: nerve-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 <"$d/ca.crt")
users:
- name: nerve-admin
  user:
    client-certificate-data: $(base64 -w0 <"$d/admin.crt")
    client-key-data: $(base64 -w0 <"$d/admin.key")
contexts:
- name: nerve-local
  context: {cluster: nerve-local, user: nerve-admin}
current-context: nerve-local
KCFG
	chmod 600 "$KUBECONFIG_FILE"
}

# sign_cert issues $PKI_DIR/<name>.crt for <name>.key, signed by the CA, with <name>.ext.
sign_cert() {
	local d=$PKI_DIR n=$1
	openssl req -new -key "$d/$n.key" -out "$d/$n.csr" -subj "$2" 2>/dev/null
	openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 3650 -extfile "$d/$n.ext" -out "$d/$n.crt" 2>/dev/null
}

start_etcd() {
	start_component etcd "$CLUSTER_BIN/etcd" --name nerve --data-dir "$STATE_DIR/etcd" \
		--listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "nerve=http://127.0.0.1:$ETCD_PEER_PORT" \
		--unsafe-no-fsync --log-level warn
	wait_ready etcd curl -sf --max-time 2 "http://127.0.0.1:$ETCD_CLIENT_PORT/health"
}

start_apiserver() {
	local p=$PKI_DIR
	start_component kube-apiserver "$CLUSTER_BIN/kube-apiserver" \
		--etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
		--secure-port="$APISERVER_PORT" --endpoint-reconciler-type=none \
		--tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" --client-ca-file="$p/ca.crt" \
		--service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$p/sa.pub" \
		--service-account-signing-key-file="$p/sa.key" --service-cluster-ip-range=10.0.0.0/24 \
		--authorization-mode=RBAC --allow-privileged=true --profiling=false --cert-dir="$STATE_DIR/apiserver-certs"
	wait_ready kube-apiserver kc --request-timeout=2s get --raw /readyz
}

start_controllers() {
	local k=$KUBECONFIG_FILE
	start_component kube-controller-manager "$CLUSTER_BIN/kube-controller-manager" \
		--kubeconfig="$k" --authentication-kubeconfig="$k" --authorization-kubeconfig="$k" \
		--bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
		--service-account-private-key-file="$PKI_DIR/sa.key" --root-ca-file="$PKI_DIR/ca.crt" \
		--controllers='*' --profiling=false --kube-api-qps=100 --kube-api-burst=200
	start_component kube-scheduler "$CLUSTER_BIN/kube-scheduler" \
		--kubeconfig="$k" --authentication-kubeconfig="$k" --authorization-kubeconfig="$k" \
		--bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false --profiling=false
	start_component kwok "$CLUSTER_BIN/kwok" --kubeconfig="$k" --config="$CLUSTER_BIN/kwok-stages.yaml" \
		--manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
		--node-lease-duration-seconds=40 --node-ip=127.0.0.1 --cidr=10.244.0.0/16 \
		--server-address="127.0.0.1:$KWOK_PORT"
	wait_ready kube-controller-manager curl -sfk --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz"
	wait_ready kube-scheduler curl -sfk --max-time 2 "https://127.0.0.1:$SCHEDULER_PORT/healthz"
	wait_ready kwok curl -sf --max-time 2 "http://127.0.0.1:$KWOK_PORT/healthz"
}

# create_nodes creates the fake nodes that do not exist yet (all of them on a fresh
# cluster; on a running one ($1 = running) only those a larger NODE_COUNT added, and a
# failure then leaves the running cluster alone) and waits until they are Ready.
create_nodes() {
	local i t0 have missing=()
	have=" $(kc get nodes -l type=kwok -o jsonpath='{.items[*].metadata.name}') "
	for ((i = 0; i < NODE_COUNT; i++)); do
		[[ "$have" == *" kwok-node-$i "* ]] || missing+=("$i")
	done
	((${#missing[@]} == 0)) && return 0
	for i in "${missing[@]}"; do
		cat <<NODE
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: kwok-node-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "$NODE_PODS"}
  capacity: {cpu: "32", memory: 256Gi, pods: "$NODE_PODS"}
  nodeInfo: {architecture: amd64, kubeProxyVersion: fake, kubeletVersion: fake, operatingSystem: linux}
NODE
	done | kc create -f - >/dev/null
	t0=$(now_ms)
	if ! kc wait --for=condition=Ready node -l type=kwok --timeout="${READY_TIMEOUT}s" >/dev/null; then
		[[ "${1:-}" == running ]] && die "fake nodes did not become Ready"
		fail_component kwok "fake nodes did not become Ready"
	fi
	log "${#missing[@]} fake nodes created, $NODE_COUNT Ready ($(elapsed "$t0"))"
}

# install_crds applies the Gateway API standard channel (first start only) and
# the repo's manifests/crds/ (every call), then waits until the CRDs it applied
# are Established (only those: a test's broken CRD must not block cluster-up).
install_crds() {
	local first=$1 gw out names=()
	if [[ "$first" == yes ]]; then
		gw=$(cd "$CLUSTER_BIN" && GOFLAGS= "$GO" mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" |
			sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
		[[ -d "$gw/config/crd/standard" ]] || die "gateway-api $GATEWAY_API_VERSION CRDs not found (go mod download failed?)"
		out=$(kc apply --server-side --force-conflicts -o name -f "$gw/config/crd/standard/") ||
			die "applying the Gateway API CRDs failed"
		mapfile -t -O "${#names[@]}" names <<<"$out"
	fi
	if [[ -d "$REPO_ROOT/manifests/crds" ]] && compgen -G "$REPO_ROOT/manifests/crds/*.y*ml" >/dev/null; then
		out=$(kc apply --server-side --force-conflicts -o name -f "$REPO_ROOT/manifests/crds/") ||
			die "kubectl apply -f manifests/crds/ failed (see the error above)"
		mapfile -t -O "${#names[@]}" names <<<"$out"
	fi
	mapfile -t names < <(printf '%s\n' "${names[@]}" | grep '^customresourcedefinition' || true)
	((${#names[@]} == 0)) && return 0
	kc wait --for=condition=Established --timeout="${READY_TIMEOUT}s" "${names[@]}" >/dev/null ||
		die "CRDs not Established after ${READY_TIMEOUT}s: ${names[*]}"
}

start_prometheus() {
	mkdir -p "$PROM_TARGETS_DIR" "$PROM_DIR/data"
	cat >"$PROM_DIR/prometheus.yml" <<PROM
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
- job_name: file_sd
  file_sd_configs:
  - files: ['$PROM_TARGETS_DIR/*.json']
    refresh_interval: 1s
PROM
	start_component prometheus "$(command -v prometheus)" --config.file="$PROM_DIR/prometheus.yml" \
		--storage.tsdb.path="$PROM_DIR/data" --storage.tsdb.retention.time=2h \
		--web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --web.enable-lifecycle
	wait_ready prometheus curl -sf --max-time 2 "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"
}

write_env() {
	cat >"$ENV_FILE.tmp" <<ENV
KUBECONFIG=$KUBECONFIG_FILE
PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT
PROMETHEUS_TARGETS_DIR=$PROM_TARGETS_DIR
CLUSTER_BIN=$CLUSTER_BIN
CLUSTER_STATE=$STATE_DIR
NERVE_CLUSTER_PORT_OFFSET=$PORT_OFFSET
ENV
	mv "$ENV_FILE.tmp" "$ENV_FILE"
}

main() {
	local t crds_pid
	command -v kubectl >/dev/null || die "kubectl is not on PATH"
	# One machine-wide lock: the ports are machine-wide, and parallel
	# `make e2e` runs must not start two clusters.
	exec 8>"${TMPDIR:-/tmp}/nerve-cluster-up.lock"
	if ! flock -n 8; then
		log "another cluster-up is running; waiting for it"
		flock 8
	fi
	t=$(now_ms)
	ensure_packages
	phase "packages" "$t"

	if cluster_healthy; then
		t=$(now_ms)
		install_crds no
		phase "crds (manifests/crds)" "$t"
		create_nodes running
		log "cluster already running (KUBECONFIG=$KUBECONFIG_FILE); up in $(elapsed "$TOTAL_START")"
		return 0
	fi
	if [[ -d "$PIDS_DIR" || -d "$STATE_DIR" ]]; then
		log "stale or partial cluster state found: cleaning it up"
		"$CLUSTER_SCRIPTS/down.sh"
	fi

	t=$(now_ms)
	cache_valid || "$CLUSTER_SCRIPTS/build.sh"
	for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok kwok-stages.yaml; do
		[[ -e "$CLUSTER_BIN/$b" ]] || die "$CLUSTER_BIN/$b missing after build"
	done
	phase "binaries" "$t"

	check_ports
	mkdir -p "$PIDS_DIR" "$LOGS_DIR"

	t=$(now_ms)
	gen_pki
	phase "pki" "$t"

	t=$(now_ms)
	start_etcd
	start_apiserver
	# The CRDs install in the background while the other components start.
	(
		t=$(now_ms)
		install_crds yes
		phase crds "$t"
	) >"$LOGS_DIR/crds.log" 2>&1 &
	crds_pid=$!
	start_controllers
	phase "control plane" "$t"

	t=$(now_ms)
	create_nodes
	phase "nodes" "$t"

	t=$(now_ms)
	start_prometheus
	phase "prometheus" "$t"

	t=$(now_ms)
	wait "$crds_pid" || fail_component crds "installing the CRDs failed"
	cat "$LOGS_DIR/crds.log"
	phase "waiting for crds" "$t"

	write_env
	log "cluster up in $(elapsed "$TOTAL_START"): KUBECONFIG=$KUBECONFIG_FILE PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
