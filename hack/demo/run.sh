#!/usr/bin/env bash
# run.sh is `make demo` (after `make build cluster-up`): it builds the demo's
# program into .demo/bin/nerve-demo and runs the scenario (nerve-demo run) with the
# local control plane's environment. --bad ships a version whose listeners ACK 20 ms late
# and expects the analysis to fail and the rollout to roll back. Every log of the
# run is kept in .demo/run-<time>/ (.demo/last points at it); the summary at the end
# is computed from those logs. Exit status: 0 when the outcome is the expected one
# and nothing was lost.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

args=()
for a in "$@"; do
	case "$a" in
	--bad) args+=(--bad) ;;
	-h | --help)
		sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) args+=("$a") ;;
	esac
done

[[ -f .cluster/env ]] || { echo "demo: no local control plane (.cluster/env): run make cluster-up" >&2; exit 1; }
set -a
# shellcheck disable=SC1091
. .cluster/env
set +a
for b in kubectl-nerve nerve-controller nerve-mllp-proxy; do
	[[ -x bin/$b ]] || echo "demo: warning: bin/$b is missing (make build)" >&2
done

mkdir -p .demo/bin .demo/pids
echo "[demo] building the demo's program into .demo/bin/nerve-demo"
go build -o .demo/bin/nerve-demo ./hack/demo/cmd/nerve-demo

run_dir=.demo/run-$(date -u +%Y%m%dT%H%M%SZ)
[[ " ${args[*]-} " == *" --bad "* ]] && run_dir+=-bad
mkdir -p "$run_dir"
ln -sfn "$(basename "$run_dir")" .demo/last

# If the driver dies without cleaning up, stop whatever it left.
# --keep: the GitOps epilogue (hack/gitops-demo.sh) reads the namespace's canary; down.sh deletes it after.
trap 'hack/demo/down.sh >/dev/null 2>&1 || true' EXIT
.demo/bin/nerve-demo run --keep --run-dir "$PWD/$run_dir" --pid-dir "$PWD/.demo/pids" ${args[@]+"${args[@]}"}
[[ " ${args[*]-} " == *" --bad "* ]] || hack/gitops-demo.sh
