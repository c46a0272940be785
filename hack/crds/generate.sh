#!/usr/bin/env bash
# Regenerates manifests/crds/{rollouts,analysistemplates,clusteranalysistemplates,analysisruns}.yaml
# from the Go types in api/v1alpha1 and checks them against the committed files.
#
#   hack/crds/generate.sh          regenerate into a temporary directory and diff against
#                                  manifests/crds (exit 1 on any difference)
#   hack/crds/generate.sh --write  regenerate and overwrite manifests/crds/<those four files>
#
# Steps: controller-gen v0.19.0 (crd:allowDangerousTypes=true, for the float64 fields Argo's
# types carry) writes raw CRDs, then hack/crds/fix.py adapts them for nerve: no descriptions or
# required lists, the Rollout pod template and every metric provider block preserve unknown
# fields, []byte fields become preserve-unknown, labels, short names, categories, printer
# columns and the status/scale subresources. Needs go and python3 with PyYAML.
#
# Reproducibility: regenerating reproduces the committed files byte for byte (checked
# 2026-11-25 with controller-gen v0.19.0, go1.26.8, PyYAML 6.0.3).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
files=(rollouts analysistemplates clusteranalysistemplates analysisruns)
controller_gen=(go run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.19.0)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/raw" "$tmp/out"

"${controller_gen[@]}" crd:allowDangerousTypes=true paths=./api/... output:crd:dir="$tmp/raw"
python3 hack/crds/fix.py "$tmp/raw" "$tmp/out"

if [[ "${1:-}" == "--write" ]]; then
  for f in "${files[@]}"; do cp "$tmp/out/$f.yaml" "manifests/crds/$f.yaml"; done
  echo "wrote manifests/crds/{$(IFS=,; echo "${files[*]}")}.yaml"
  exit 0
fi

status=0
for f in "${files[@]}"; do
  if ! diff -u "manifests/crds/$f.yaml" "$tmp/out/$f.yaml"; then
    echo "manifests/crds/$f.yaml differs from the regenerated file" >&2
    status=1
  fi
done
if [[ $status -eq 0 ]]; then
  echo "manifests/crds: ${files[*]} are up to date"
fi
exit $status
