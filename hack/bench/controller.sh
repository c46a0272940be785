#!/usr/bin/env bash
# nerve's loop vs the real Argo Rollouts v1.10.0 controller on the local control plane,
# alternating, ROUNDS rounds (default 3):
#   canary: a 4-replica canary v1->v2 (setWeight 25, pause 2s, setWeight 75, pause 2s), wall time to Healthy
#   scale:  N (default 300) Rollouts of 2 replicas progressing at once (setWeight 50, pause 1s), time until all Healthy
#           (hack/cluster/up.sh makes 12 fake nodes x 250 pods: 300 Rollouts mid-update hold up to 1200 pods)
#   rss:    peak RSS of the controller process (VmHWM) over the round; rss_file: the part of the RSS at the
#           end of the round that is the mapped binary (RssFile), the rest being heap and stacks
#   api:    API requests made (controller_clientset_k8s_request_total, both controllers expose it)
#   cli:    `kubectl nerve get rollout` vs `kubectl argo rollouts get rollout` (wall time, max RSS)
# Each controller watches only its own namespace; a round's namespace is deleted (and waited for) before the
# next round starts, so that its garbage collection does not load the next controller's round.
# CONTROLLERS="nerve argo" (default) selects the controllers (one alone for profiling). Prints a table and a final line
# `controller-vs-argo: canary x.xx scale x.xx rss x.xx cli x.xx` (nerve / Argo, medians).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
set -a; . .cluster/env; set +a
ROUNDS="${ROUNDS:-3}"
N="${N:-300}"
CONTROLLERS="${CONTROLLERS:-nerve argo}"
BIN="${NERVE_BIN:-$root/bin}"
NERVE_CONTROLLER="${NERVE_CONTROLLER:-$BIN/nerve-controller}"
argo_dir=""
if [[ " $CONTROLLERS " == *" argo "* ]]; then argo_dir="$(hack/argo/build.sh)"; fi
work="$(mktemp -d /tmp/nerve-bench-controller.XXXXXX)"
results="$work/results.tsv"
ctrl_pid=""
cleanup() {
  if [[ -n "$ctrl_pid" ]]; then kill "$ctrl_pid" 2>/dev/null || true; fi
  kubectl get ns -o name | grep '^namespace/nerve-bench-' | xargs -r kubectl delete --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT
if [[ -n "$argo_dir" ]]; then
  # Argo's controller waits for an Experiment informer; nerve has no Experiment kind (additive).
  kubectl apply --server-side -f "$argo_dir/crds/experiment-crd.yaml" >/dev/null
  kubectl wait --for=condition=Established crd/experiments.argoproj.io --timeout=30s >/dev/null
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }

rollout() { # name replicas steps
  cat <<YAML
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: $1}
spec:
  replicas: $2
  revisionHistoryLimit: 2
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec: {containers: [{name: app, image: registry.k8s.io/pause:3.10}]}
  strategy:
    canary:
      steps: $3
---
YAML
}

# healthy_count NS [gen]: number of Rollouts Healthy at their current pod hash for their generation.
healthy_count() {
  kubectl get rollouts.argoproj.io -n "$1" -o json | python3 -c '
import json,sys
n=0
for r in json.load(sys.stdin)["items"]:
    s=r.get("status",{})
    if s.get("phase")=="Healthy" and s.get("stableRS") and s.get("stableRS")==s.get("currentPodHash") and s.get("observedGeneration")==str(r["metadata"]["generation"]) and r["metadata"]["generation"]>=int(sys.argv[1]):
        n+=1
print(n)' "$2"
}

wait_healthy() { # ns want gen timeout [poll seconds]
  local deadline=$(( $(date +%s) + $4 ))
  while (( $(date +%s) < deadline )); do
    [[ "$(healthy_count "$1" "$3")" -ge "$2" ]] && return 0
    sleep "${5:-0.2}"
  done
  echo "timeout waiting for $2 healthy rollouts in $1" >&2; return 1
}

start_ctrl() { # kind ns -> sets ctrl_pid, metrics_url
  local kind=$1 ns=$2 mport; mport=$(free_port)
  metrics_url="http://127.0.0.1:$mport/metrics"
  if [[ $kind == argo ]]; then
    local hport; hport=$(free_port); mkdir -p "$work/$ns"
    ( cd "$work/$ns" && POD_NAMESPACE=$ns exec "$argo_dir/rollouts-controller" --kubeconfig "$KUBECONFIG" \
        --namespace "$ns" --namespaced --leader-elect=false --metricsport "$mport" --healthzPort "$hport" \
        --loglevel error >"$work/$ns.log" 2>&1 ) &
  else
    "$NERVE_CONTROLLER" --kubeconfig "$KUBECONFIG" --namespace "$ns" --controller-namespace "$ns" \
      --metrics-addr "127.0.0.1:$mport" --leader-elect-lease-duration=3s --leader-elect-renew-deadline=2s \
      --leader-elect-retry-period=500ms --plugin-workdir "$work/$ns-plugins" >"$work/$ns.log" 2>&1 &
  fi
  ctrl_pid=$!
  for _ in $(seq 1 300); do curl -fsS "$metrics_url" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$kind controller did not come up; log:" >&2; tail -20 "$work/$ns.log" >&2; return 1
}

api_requests() { curl -fsS "$metrics_url" | awk '/^controller_clientset_k8s_request_total/ {s+=$NF} END {printf "%d", s}'; }

one() { # round kind
  local round=$1 kind=$2 ns="nerve-bench-$2-$1-$RANDOM"
  kubectl create ns "$ns" >/dev/null
  kubectl -n "$ns" create configmap argo-rollouts-config >/dev/null
  start_ctrl "$kind" "$ns"
  # canary
  rollout canary 4 '[{setWeight: 25}, {pause: {duration: 2s}}, {setWeight: 75}, {pause: {duration: 2s}}]' | kubectl -n "$ns" apply -f - >/dev/null
  wait_healthy "$ns" 1 1 120
  local t0 t1 canary scale cli cli_rss rss rss_file api
  t0=$(now)
  kubectl -n "$ns" patch rollouts.argoproj.io canary --type merge -p '{"spec":{"template":{"metadata":{"annotations":{"v":"2"}}}}}' >/dev/null
  wait_healthy "$ns" 1 2 120
  t1=$(now); canary=$(echo "$t1 - $t0" | bc)
  # cli (on the canary rollout)
  local cli_cmd
  if [[ $kind == argo ]]; then cli_cmd=("$argo_dir/kubectl-argo-rollouts" get rollout canary -n "$ns" --kubeconfig "$KUBECONFIG")
  else cli_cmd=("$BIN/kubectl-nerve" get rollout canary -n "$ns" --kubeconfig "$KUBECONFIG"); fi
  "${cli_cmd[@]}" >/dev/null 2>&1
  t0=$(now); /usr/bin/time -f %M -o "$work/cli.rss" "${cli_cmd[@]}" >/dev/null 2>&1; t1=$(now)
  cli=$(echo "$t1 - $t0" | bc); cli_rss=$(cat "$work/cli.rss")
  # scale
  for i in $(seq 1 "$N"); do rollout "s$i" 2 '[{setWeight: 50}, {pause: {duration: 1s}}]'; done | kubectl -n "$ns" apply -f - >/dev/null
  # polling N Rollouts costs the apiserver and this machine's CPU: once a second
  wait_healthy "$ns" $((N + 1)) 1 $((240 + N)) 1
  t0=$(now)
  for i in $(seq 1 "$N"); do echo "rollout.argoproj.io/s$i"; done |
    xargs kubectl -n "$ns" patch --type merge -p '{"spec":{"template":{"metadata":{"annotations":{"v":"2"}}}}}' >/dev/null
  wait_healthy "$ns" $((N + 1)) 2 $((240 + N)) 1
  t1=$(now); scale=$(echo "$t1 - $t0" | bc)
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$ctrl_pid/status")
  rss_file=$(awk '/RssFile/ {print $2}' "/proc/$ctrl_pid/status")
  api=$(api_requests)
  kill "$ctrl_pid"; wait "$ctrl_pid" 2>/dev/null || true; ctrl_pid=""
  kubectl delete ns "$ns" --wait=false >/dev/null
  kubectl wait --for=delete "ns/$ns" --timeout=$((120 + N))s >/dev/null 2>&1 || echo "namespace $ns still terminating" >&2
  printf '%s\t%s\t%.2f\t%.2f\t%d\t%d\t%.3f\t%d\t%d\n' "$round" "$kind" "$canary" "$scale" "$((rss / 1024))" "$api" "$cli" "$((cli_rss / 1024))" "$((rss_file / 1024))" | tee -a "$results"
}

echo "N=$N rollouts in the scale scenario, $ROUNDS rounds"
printf 'round\tctrl\tcanary_s\tscale_s\trss_MB\tapi_reqs\tcli_s\tcli_MB\trss_file_MB\n'
read -r -a ctrls <<<"$CONTROLLERS"
for r in $(seq 1 "$ROUNDS"); do
  if (( r % 2 )); then order=("${ctrls[@]}"); else order=(); for ((i = ${#ctrls[@]} - 1; i >= 0; i--)); do order+=("${ctrls[i]}"); done; fi
  for kind in "${order[@]}"; do one "$r" "$kind"; done
done
python3 - "$results" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
med = lambda kind, col: statistics.median(float(r[col]) for r in rows if r[1] == kind)
print("median\tnerve\targo\tnerve/argo")
names = {2: "canary_s", 3: "scale_s", 4: "rss_MB", 5: "api_reqs", 6: "cli_s", 7: "cli_MB", 8: "rss_file_MB"}
ratio = {}
for col, name in names.items():
    if not any(r[1] == "nerve" for r in rows) or not any(r[1] == "argo" for r in rows):
        sys.exit(0)
    n, a = med("nerve", col), med("argo", col)
    ratio[name] = n / a if a else float("nan")
    print(f"{name}\t{n:.3f}\t{a:.3f}\t{ratio[name]:.2f}")
print(f"controller-vs-argo: canary {ratio['canary_s']:.2f} scale {ratio['scale_s']:.2f} rss {ratio['rss_MB']:.2f} cli {ratio['cli_s']:.2f}")
PY
