#!/usr/bin/env bash
# Regenerates go.mod/go.sum for a Kubernetes release. Run by hand when bumping the pin:
#   K8S_VERSION=v1.37.2 test/controlplane/init-module.sh
# k8s.io/kubernetes requires its staging modules at v0.0.0 and resolves them with local replaces,
# which a consumer does not inherit, so each one is replaced here with its published tag.
set -euo pipefail
cd "$(dirname "$0")"
: "${K8S_VERSION:=v1.37.2}"
STAGING_VERSION="v0.${K8S_VERSION#v1.}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOWORK=off GOFLAGS=-mod=mod
rm -f go.mod go.sum
go mod init scim-token-operator/test/controlplane
gomod=$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" |
  sed -n 's/^[[:space:]]*"GoMod": "\([^"]*\)".*/\1/p')
for m in $(awk '$2 == "v0.0.0" {print $1}' "$gomod"); do
  go mod edit -replace="${m}=${m}@${STAGING_VERSION}"
done
go get "k8s.io/kubernetes@${K8S_VERSION}"
go mod edit -tool=k8s.io/kubernetes/cmd/kube-apiserver \
  -tool=k8s.io/kubernetes/cmd/kube-controller-manager \
  -tool=k8s.io/kubernetes/cmd/kubectl
ETCD_VERSION=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/client/v3)
go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
go mod tidy
go list -m k8s.io/kubernetes go.etcd.io/etcd/server/v3 k8s.io/client-go
