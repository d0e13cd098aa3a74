#!/usr/bin/env bash
# Builds the pinned helm-docs (go.mod here) into a cache outside git keyed by the pins, and prints the
# path of the binary. Rebuilds only when go.mod/go.sum change. helm-docs writes the chart's
# README.md from values.yaml (`# --` comments) and README.md.gotmpl; test/integration/chart-readme.test.ts
# fails when the committed README differs from what it generates.
set -euo pipefail
cd "$(dirname "$0")"
export CGO_ENABLED=0 GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOWORK=off GOFLAGS=-mod=mod
cache_root=${SCIM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/scim-token-operator}
version=$(awk '$1 == "require" && $2 == "github.com/norwoodj/helm-docs" {print $3}' go.mod)
key=$(cat go.mod go.sum build.sh | sha256sum | cut -c1-12)
out="$cache_root/helm-docs-${version}-${key}"
if [ -x "$out/helm-docs" ]; then echo "$out/helm-docs"; exit 0; fi
echo "[helm-docs build] building helm-docs ${version} into $out (first time: a minute or two)" >&2
mkdir -p "$out.partial"
go build -trimpath -ldflags "-s -w -X main.version=${version}" \
  -o "$out.partial/helm-docs" github.com/norwoodj/helm-docs/cmd/helm-docs >&2 ||
  { echo "[helm-docs build] FAILED: go build helm-docs" >&2; exit 1; }
rm -rf "$out"; mv "$out.partial" "$out"
echo "$out/helm-docs"
