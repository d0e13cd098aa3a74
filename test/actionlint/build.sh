#!/usr/bin/env bash
# Builds the pinned actionlint (go.mod here) into a cache outside git keyed by the pins, and prints
# the path of the binary. Rebuilds only when go.mod/go.sum change. Used by .ci/run to check
# .github/workflows/ (the release workflow needs Docker and a registry, so it cannot run here).
set -euo pipefail
cd "$(dirname "$0")"
export CGO_ENABLED=0 GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOWORK=off GOFLAGS=-mod=mod
cache_root=${SCIM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/scim-token-operator}
version=$(awk '$1 == "require" && $2 == "github.com/rhysd/actionlint" {print $3}' go.mod)
key=$(cat go.mod go.sum build.sh | sha256sum | cut -c1-12)
out="$cache_root/actionlint-${version}-${key}"
if [ -x "$out/actionlint" ]; then echo "$out/actionlint"; exit 0; fi
echo "[actionlint build] building actionlint ${version} into $out" >&2
mkdir -p "$out.partial"
go build -trimpath -ldflags "-s -w -X github.com/rhysd/actionlint.version=${version}" \
  -o "$out.partial/actionlint" github.com/rhysd/actionlint/cmd/actionlint >&2 ||
  { echo "[actionlint build] FAILED: go build actionlint" >&2; exit 1; }
rm -rf "$out"; mv "$out.partial" "$out"
echo "$out/actionlint"
