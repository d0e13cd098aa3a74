#!/usr/bin/env bash
# Builds the kstatus probe (main.go: sigs.k8s.io/cli-utils' kstatus, pinned in go.mod here) into a
# cache outside git keyed by the pins, and prints the path of the binary. Rebuilds only when
# go.mod, go.sum, main.go or this script change.
set -euo pipefail
cd "$(dirname "$0")"
export CGO_ENABLED=0 GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOWORK=off GOFLAGS=-mod=mod
cache_root=${SCIM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/scim-token-operator}
version=$(awk '$1 == "sigs.k8s.io/cli-utils" {print $2}' go.mod)
key=$(cat go.mod go.sum main.go build.sh | sha256sum | cut -c1-12)
out="$cache_root/kstatus-${version}-${key}"
if [ -x "$out/kstatus" ]; then echo "$out/kstatus"; exit 0; fi
echo "[kstatus build] building the kstatus probe (cli-utils ${version}) into $out" >&2
mkdir -p "$out.partial"
go build -trimpath -ldflags "-s -w" -o "$out.partial/kstatus" . >&2 ||
  { echo "[kstatus build] FAILED: go build" >&2; exit 1; }
rm -rf "$out"; mv "$out.partial" "$out"
echo "$out/kstatus"
