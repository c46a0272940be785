#!/usr/bin/env bash
# Builds the real Argo Rollouts v1.10.0 controller and kubectl plugin from the nested wrapper
# module hack/argo/wrapper (Argo's own require + replace lists; never the product go.mod) into
# ${NERVE_CACHE:-$HOME/.cache/nerve}/argo/v1.10.0_<go version>/, with Argo's CRDs from the module.
# A stamp (sha256 of wrapper go.mod/go.sum, this script and the go version) is written last;
# when it matches, the script only prints the directory. Prints the directory on stdout.
set -euo pipefail

ARGO_VERSION=v1.10.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
wrapper="$here/wrapper"
GO="${GO:-go}"
gover="$("$GO" env GOVERSION)"
dir="${NERVE_CACHE:-$HOME/.cache/nerve}/argo/${ARGO_VERSION}_${gover}"
stamp_want="$(cat "$wrapper/go.mod" "$wrapper/go.sum" "$here/build.sh" <(echo "$gover") | sha256sum | cut -d' ' -f1)"

if [[ -f "$dir/stamp" && "$(cat "$dir/stamp")" == "$stamp_want" \
      && -x "$dir/rollouts-controller" && -x "$dir/kubectl-argo-rollouts" ]]; then
  echo "$dir"
  exit 0
fi

mkdir -p "$dir"
rm -f "$dir/stamp"
echo "hack/argo: building argo-rollouts $ARGO_VERSION with $gover into $dir (a few minutes)" >&2
(
  cd "$wrapper"
  export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0
  "$GO" build -trimpath -o "$dir/rollouts-controller.tmp" github.com/argoproj/argo-rollouts/cmd/rollouts-controller
  "$GO" build -trimpath -o "$dir/kubectl-argo-rollouts.tmp" github.com/argoproj/argo-rollouts/cmd/kubectl-argo-rollouts
)
mv -f "$dir/rollouts-controller.tmp" "$dir/rollouts-controller"
mv -f "$dir/kubectl-argo-rollouts.tmp" "$dir/kubectl-argo-rollouts"

moddir="$(cd "$wrapper" && GOWORK=off "$GO" list -m -f '{{.Dir}}' github.com/argoproj/argo-rollouts)"
rm -rf "$dir/crds"
mkdir -p "$dir/crds"
cp "$moddir"/manifests/crds/*-crd.yaml "$dir/crds/"
chmod -R u+w "$dir/crds"

echo "$stamp_want" > "$dir/stamp.tmp"
mv -f "$dir/stamp.tmp" "$dir/stamp"
echo "$dir"
