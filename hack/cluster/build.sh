#!/usr/bin/env bash
# build.sh builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
# into the versioned cache dir ($CLUSTER_BIN) and writes the stamp file last.
# It holds a lock so that concurrent callers build only once.
set -euo pipefail
# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$CLUSTER_BIN"
exec 9>"$CLUSTER_BIN.lock"
if ! flock -n 9; then
	log "another build holds $CLUSTER_BIN.lock; waiting for it"
	flock 9
fi
if cache_valid && [[ "${1:-}" != "--force" ]]; then
	log "binary cache is valid: $CLUSTER_BIN"
	exit 0
fi
rm -f "$CLUSTER_BIN/stamp"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
start=$(now_ms)
log "building control plane binaries into $CLUSTER_BIN (cold: ~13 min on 2 cores)"

ld="-s -w"
minor=${K8S_VERSION#v1.}
minor=${minor%%.*}
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done

t=$(now_ms)
(cd "$CLUSTER_SCRIPTS/etcdbin" && "$GO" build -trimpath -ldflags="-s -w" -o "$CLUSTER_BIN/etcd" go.etcd.io/etcd/server/v3)
log "etcd $ETCD_VERSION built in $(elapsed "$t")"

t=$(now_ms)
(cd "$CLUSTER_SCRIPTS/k8sbin" && "$GO" build -trimpath -ldflags="$ld" -o "$CLUSTER_BIN/" \
	k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
log "kube-apiserver, kube-controller-manager, kube-scheduler $K8S_VERSION built in $(elapsed "$t")"

t=$(now_ms)
(cd "$CLUSTER_BIN" && GOBIN="$CLUSTER_BIN" GOFLAGS=-buildvcs=false "$GO" install -trimpath -ldflags="-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION")
kwok_dir=$(cd "$CLUSTER_BIN" && "$GO" mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[[ -d "$kwok_dir/kustomize/stage" ]] || die "kwok stage config not found under $kwok_dir"
for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
	pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
	echo ---
	cat "$kwok_dir/kustomize/stage/$f"
done >"$CLUSTER_BIN/kwok-stages.yaml"
log "kwok $KWOK_VERSION built in $(elapsed "$t")"

cluster_stamp >"$CLUSTER_BIN/stamp"
log "control plane binaries ready in $(elapsed "$start"): $CLUSTER_BIN"
