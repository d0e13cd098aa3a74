#!/usr/bin/env bash
# Builds the pinned Helm (go.mod here) into a cache outside git keyed by the pins, and prints the
# path of the helm binary. Rebuilds only when go.mod/go.sum change.
set -euo pipefail
cd "$(dirname "$0")"
export CGO_ENABLED=0 GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOWORK=off GOFLAGS=-mod=mod
cache_root=${SCIM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/scim-token-operator}
version=$(awk '$1 == "require" && $2 == "helm.sh/helm/v4" {print $3}' go.mod)
key=$(cat go.mod go.sum build.sh | sha256sum | cut -c1-12)
out="$cache_root/helm-${version}-${key}"
if [ -x "$out/helm" ]; then echo "$out/helm"; exit 0; fi
echo "[helm build] building Helm ${version} into $out (first time: a few minutes)" >&2
mkdir -p "$out.partial"
go build -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=${version}" \
  -o "$out.partial/helm" helm.sh/helm/v4/cmd/helm >&2 || { echo "[helm build] FAILED: go build helm" >&2; exit 1; }
rm -rf "$out"; mv "$out.partial" "$out"
echo "$out/helm"
