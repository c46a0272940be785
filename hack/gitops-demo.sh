#!/usr/bin/env bash
# gitops-demo.sh: the GitOps epilogue of `make demo`. After the demo's canary of the new
# mllp-listener revision (overlays/demo-v2) passed its analysis in the demo namespace, this
# plays that namespace as "staging": it builds a local git repository (a bare remote and a
# working copy in a temporary directory) with environments/{staging,prod}/mllp-listener, creates
# the two Argo CD Applications (Argo CD's real CRDs, manifests/vendor/argo-cd; Argo CD itself does
# not run, so the script writes the staging Application's sync status), then runs
#   kubectl nerve env promote mllp-listener --from staging --to prod   (gated on the analysis)
#   kubectl nerve drift --app mllp-listener --env staging                 (a drift report)
# and prints both with their exit codes. It deletes only what it created.
# Usage: hack/gitops-demo.sh [--staging-namespace NS] [--keep]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

staging_ns=clinical-ingestion
keep=no
while [[ $# -gt 0 ]]; do
	case "$1" in
	--staging-namespace) staging_ns=$2; shift ;;
	--keep) keep=yes ;;
	*) echo "gitops-demo: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
if [[ -f .cluster/env && -z "${KUBECONFIG:-}" ]]; then
	set -a
	# shellcheck disable=SC1091
	. .cluster/env
	set +a
fi
nerve=$PWD/bin/kubectl-nerve
argo_ns=nerve-gitops-demo
prod_ns=nerve-gitops-demo-prod
tmp=$(mktemp -d)
cleanup() {
	rm -rf "$tmp"
	[[ $keep == yes ]] || kubectl delete namespace "$argo_ns" "$prod_ns" --ignore-not-found --wait=false >/dev/null 2>&1
}
trap cleanup EXIT
g() { git -C "$tmp/work" -c user.name="nerve demo" -c user.email=demo@nerve.invalid -c commit.gpgsign=false "$@"; }

echo "[gitops] Argo CD's CRDs (v3.5.7, vendored) and the namespaces $argo_ns, $prod_ns"
kubectl apply --server-side --force-conflicts --field-manager nerve-demo -f manifests/vendor/argo-cd >/dev/null || exit 1
kubectl wait --for=condition=Established --timeout=60s crd/applications.argoproj.io >/dev/null 2>&1 || sleep 2
for ns in "$argo_ns" "$prod_ns"; do
	kubectl create namespace "$ns" >/dev/null 2>&1
	kubectl label namespace "$ns" nerve.io/demo=true --overwrite >/dev/null
done

echo "[gitops] a local git repository: $tmp/remote.git, working copy $tmp/work"
git init -q --bare --initial-branch=main "$tmp/remote.git"
git clone -q "$tmp/remote.git" "$tmp/work" 2>/dev/null
g checkout -q -B main
mkdir -p "$tmp/work/base" "$tmp/work/environments/staging/mllp-listener" "$tmp/work/environments/prod/mllp-listener"
cp -r manifests/examples/mllp-listener/base manifests/examples/mllp-listener/routing manifests/examples/mllp-listener/overlays "$tmp/work/base/"
cat >"$tmp/work/environments/staging/mllp-listener/kustomization.yaml" <<YAML
# staging: the demo's new revision (its canary ran in $staging_ns)
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: $staging_ns
resources: [../../../base/overlays/demo-v2]
YAML
cat >"$tmp/work/environments/prod/mllp-listener/kustomization.yaml" <<YAML
# prod: still the previous revision
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: $prod_ns
resources: [../../../base/overlays/demo]
YAML
g add . && g commit -qm "mllp-listener: v2 in staging, v1 in prod" && g push -q -u origin main 2>/dev/null

for env in staging prod; do
	ns=$staging_ns
	[[ $env == prod ]] && ns=$prod_ns
	kubectl apply -n "$argo_ns" -f - >/dev/null <<YAML || exit 1
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: mllp-listener-$env
  labels: {nerve.io/app: mllp-listener, nerve.io/environment: $env}
spec:
  project: default
  source: {repoURL: "file://$tmp/remote.git", targetRevision: main, path: environments/$env/mllp-listener}
  destination: {server: "https://kubernetes.default.svc", namespace: $ns}
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [ServerSideApply=true, RespectIgnoreDifferences=true]
  ignoreDifferences:
    - {group: mllp.nerve.io, kind: MLLPRoute, jsonPointers: [/spec/weight], managedFieldsManagers: [nerve-mllp-router]}
YAML
done
# No Argo CD runs here: record what it would report for staging (synced at the repository's HEAD).
kubectl patch application mllp-listener-staging -n "$argo_ns" --type merge -p \
	"{\"status\":{\"sync\":{\"status\":\"Synced\",\"revision\":\"$(g rev-parse HEAD)\"},\"health\":{\"status\":\"Healthy\"},\"reconciledAt\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}}" >/dev/null

echo
echo "\$ kubectl nerve env promote mllp-listener --from staging --to prod"
"$nerve" env promote mllp-listener --from staging --to prod --argocd-namespace "$argo_ns" --repo "$tmp/work"
promote=$?
echo "[exit $promote]"
echo "\$ git log -1 (the promotion commit, pushed to the local remote)"
git -C "$tmp/remote.git" log -1 --format='%h %s%n%n%(trailers)' main
echo
echo "\$ kubectl nerve drift --app mllp-listener --env staging"
"$nerve" drift --app mllp-listener --env staging --argocd-namespace "$argo_ns" --repo "$tmp/work"
drift=$?
echo "[exit $drift: 0 no drift, 1 drift, >1 error]"
# The demo's outcome is the canary's; the epilogue fails the demo only when nerve errs.
[[ $promote -eq 0 && $drift -le 1 ]]
