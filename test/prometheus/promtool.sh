#!/usr/bin/env bash
# Prints the path of promtool (Prometheus's checker for metrics and rules), for the tests that run
# `promtool check metrics`, `promtool check rules` and `promtool test rules`. It comes from Debian's
# `prometheus` package, unpacked (not installed: no service, no user, no dependencies) into a cache
# outside git keyed by the package version; it is fetched once per version.
#
# PROMTOOL=/path/to/promtool uses that binary instead (e.g. one built with
# `go install github.com/prometheus/prometheus/cmd/promtool@<version>`).
set -euo pipefail
if [ -n "${PROMTOOL:-}" ]; then echo "$PROMTOOL"; exit 0; fi
cache_root=${SCIM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/scim-token-operator}
candidate() { apt-cache policy prometheus 2>/dev/null | awk '$1 == "Candidate:" {print $2}'; }
version=$(candidate)
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  # A clean machine may have no package lists yet.
  echo "[promtool] apt-get update (no candidate for prometheus)" >&2
  apt-get update -qq >&2 || true
  version=$(candidate)
fi
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  echo "[promtool] FAILED: no Debian package 'prometheus' to take promtool from; set PROMTOOL" >&2
  exit 1
fi
out="$cache_root/promtool-${version//[^A-Za-z0-9.+-]/_}"
if [ -x "$out/promtool" ]; then echo "$out/promtool"; exit 0; fi
echo "[promtool] fetching prometheus ${version} from Debian into $out" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# `apt-get download` writes into the current directory; _apt cannot write to a root-owned mktemp.
chmod 0777 "$work"
(cd "$work" && apt-get download -q "prometheus=${version}" >&2) || {
  echo "[promtool] FAILED: apt-get download prometheus=${version}" >&2
  exit 1
}
dpkg-deb --fsys-tarfile "$work"/prometheus_*.deb | tar -x -C "$work" ./usr/bin/promtool
mkdir -p "$out.partial"
mv "$work/usr/bin/promtool" "$out.partial/promtool"
"$out.partial/promtool" --version >&2
rm -rf "$out"
mv "$out.partial" "$out"
echo "$out/promtool"
