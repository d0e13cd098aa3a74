#!/usr/bin/env bash
# Installs the Node.js the image ships (the LTS pinned below, from the npm registry's `node` package,
# which carries the official binary) into a cache outside git, and prints its bin directory. CI runs
# the suites with it first on PATH, while the machine's own Node.js (20) stays the oldest supported.
set -euo pipefail
version=24.21.0 # keep the major in step with the Dockerfile's NODE_IMAGE
cache_root=${SCIM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/scim-token-operator}
out="$cache_root/node-$version"
if [ -x "$out/node_modules/.bin/node" ] && [ "$("$out/node_modules/.bin/node" --version)" = "v$version" ]; then
  echo "$out/node_modules/.bin"
  exit 0
fi
echo "[node] installing Node.js $version into $out (npm registry package node@$version)" >&2
rm -rf "$out.partial"
mkdir -p "$out.partial"
npm install --prefix "$out.partial" --no-save --no-audit --no-fund --loglevel=error "node@$version" >&2
got=$("$out.partial/node_modules/.bin/node" --version)
[ "$got" = "v$version" ] || { echo "[node] FAILED: installed node says $got, expected v$version" >&2; exit 1; }
rm -rf "$out"
mv "$out.partial" "$out"
echo "$out/node_modules/.bin"
