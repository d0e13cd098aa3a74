#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager and kubectl from the pinned Go modules in
# this folder, into a cache outside git keyed by the pins (go.mod + go.sum), and prints that
# folder on stdout. A second run with the same pins only prints the folder.
#   test/controlplane/build.sh            -> e.g. ~/.cache/scim-token-operator/controlplane-v1.37.2-1a2b3c4d
set -euo pipefail
cd "$(dirname "$0")"
export CGO_ENABLED=0 GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOWORK=off GOFLAGS=-mod=mod

cache_root=${SCIM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/scim-token-operator}
k8s_version=$(awk '$1 == "k8s.io/kubernetes" {print $2; exit}' go.mod)
[ -n "$k8s_version" ] || k8s_version=$(sed -n 's/^require k8s.io\/kubernetes \(v[^ ]*\).*/\1/p' go.mod)
key=$(cat go.mod go.sum cmd/etcd/main.go build.sh | sha256sum | cut -c1-12)
out="$cache_root/controlplane-${k8s_version}-${key}"
bins=(etcd kube-apiserver kube-controller-manager kubectl)

have_all() { for b in "${bins[@]}"; do [ -x "$out/$b" ] || return 1; done; }
if have_all; then echo "$out"; exit 0; fi

log() { printf '[controlplane build] %s\n' "$*" >&2; }
fail() { log "FAILED at step: $1"; log "see the output above; the pins are in test/controlplane/go.mod"; exit 1; }
command -v go >/dev/null || fail "find Go (install Go >= 1.26 and put it on PATH)"

minor=${k8s_version#v1.}; minor=${minor%%.*}
ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld+=" -X $p.gitVersion=${k8s_version} -X $p.gitMajor=1 -X $p.gitMinor=${minor} -X $p.gitTreeState=clean"
done

tmp="$out.partial"
rm -rf "$tmp"; mkdir -p "$tmp"
start=$SECONDS
log "building Kubernetes ${k8s_version} control plane into $out (first time: 10-25 minutes on 2 cores)"
log "step 1/5: downloading Go modules"
go mod download >&2 || fail "download Go modules"
step=2
build() { # NAME PACKAGE
  log "step ${step}/5: building $1 ($(( SECONDS - start ))s elapsed)"
  go build -trimpath -tags=notest -ldflags "$ld" -o "$tmp/$1" "$2" >&2 || fail "build $1"
  step=$((step + 1))
}
build etcd ./cmd/etcd
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build kubectl k8s.io/kubernetes/cmd/kubectl
"$tmp/kube-apiserver" --version >&2 || fail "run the built kube-apiserver"
rm -rf "$out"; mv "$tmp" "$out"
log "done in $(( SECONDS - start ))s"
echo "$out"
