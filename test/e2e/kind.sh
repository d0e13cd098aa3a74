#!/usr/bin/env bash
# End to end on kind, for machines with Docker (not part of CI: the CI machines have no Docker
# engine). Creates a kind cluster, builds and loads the image, installs the chart, applies the
# examples, waits for a Ready domain, checks the token with the verifier, rotates it and checks that
# the old token is refused and the new one accepted.
#
#   test/e2e/kind.sh               # run, then delete the cluster
#   KEEP_CLUSTER=1 test/e2e/kind.sh  # leave the cluster for poking around (kind delete cluster --name ...)
#
# Needs: docker, kind, kubectl, curl, base64, and helm (else the pinned one is built from test/helm,
# which needs Go).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

CLUSTER=${KIND_CLUSTER:-scim-token-operator-e2e}
IMAGE=${IMAGE:-scim-token-operator:e2e}
NS=${OPERATOR_NAMESPACE:-scim-system}
APP_NS=${APP_NAMESPACE:-scim-e2e}
RELEASE=scim-token-operator
LOCAL_PORT=${LOCAL_PORT:-18443}

say() { printf '\n[e2e] %s\n' "$*"; }
die() { printf '\n[e2e] FAILED: %s\n' "$*" >&2; exit 1; }

for tool in docker kind kubectl curl base64; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"
HELM=${HELM:-$(command -v helm || bash test/helm/build.sh)}

pf_pid=""
cleanup() {
  if [ -n "$pf_pid" ]; then kill "$pf_pid" 2>/dev/null || true; fi
  if [ "${KEEP_CLUSTER:-}" != 1 ]; then
    say "deleting kind cluster $CLUSTER (KEEP_CLUSTER=1 keeps it)"
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

say "kind cluster $CLUSTER"
if ! kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  kind create cluster --name "$CLUSTER" --wait 120s
fi
kubectl config use-context "kind-$CLUSTER" >/dev/null

say "building $IMAGE"
docker build -t "$IMAGE" \
  --build-arg VERSION="$(node -p 'require("./package.json").version' 2>/dev/null || echo 0.0.0-dev)" \
  --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" .
kind load docker-image "$IMAGE" --name "$CLUSTER"

say "helm install $RELEASE into $NS"
"$HELM" upgrade --install "$RELEASE" charts/scim-token-operator \
  --namespace "$NS" --create-namespace \
  --set image.repository="${IMAGE%:*}" --set image.tag="${IMAGE##*:}" --set image.pullPolicy=Never \
  --wait --timeout 5m
kubectl -n "$NS" rollout status "deployment/$RELEASE" --timeout=3m
kubectl -n "$NS" rollout status "deployment/$RELEASE-verifier" --timeout=3m
kubectl -n "$NS" get pods -l app.kubernetes.io/instance="$RELEASE" -o wide
holder=""
for _ in $(seq 1 30); do
  holder=$(kubectl -n "$NS" get lease scim-token-operator-leader -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true)
  [ -n "$holder" ] && break
  sleep 1
done
[ -n "$holder" ] || die "no replica holds the Lease $NS/scim-token-operator-leader"
say "leader: $holder"

say "applying examples/ into $APP_NS"
kubectl create namespace "$APP_NS" --dry-run=client -o yaml | kubectl apply -f -
kubectl -n "$APP_NS" apply -f examples/scimdomain-entra.yaml -f examples/scimdomain-okta-reveal-once.yaml
kubectl -n "$APP_NS" wait scimdomain/contoso scimdomain/fabrikam --for=condition=Ready --timeout=120s
kubectl -n "$APP_NS" get scimdomains

token_of() {
  kubectl -n "$APP_NS" get secret contoso-scim-token -o jsonpath='{.data.token}' | base64 -d
}
old_token=$(token_of)
[ -n "$old_token" ] || die "the Secret contoso-scim-token holds no token"

say "port-forwarding the verifier to https://127.0.0.1:$LOCAL_PORT"
kubectl -n "$NS" port-forward "service/$RELEASE-verifier" "$LOCAL_PORT:8443" >/dev/null 2>&1 &
pf_pid=$!
ca_file=$(mktemp)
kubectl -n "$NS" get configmap "$RELEASE-verifier-ca" -o jsonpath='{.data.ca\.crt}' >"$ca_file"
verifier_host="$RELEASE-verifier.$NS.svc"
verify() { # TOKEN -> HTTP status of /v1/verify, checking the chart's CA and the Service name
  curl -s --cacert "$ca_file" --resolve "$verifier_host:$LOCAL_PORT:127.0.0.1" -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $1" "https://$verifier_host:$LOCAL_PORT/v1/verify" || true
}
status=""
for _ in $(seq 1 30); do
  status=$(verify "$old_token")
  [ "$status" = 200 ] && break
  sleep 1
done
[ "$status" = 200 ] || die "the verifier answered $status for the current token (expected 200)"
say "verifier accepts the current token"

say "rotating contoso (examples/rotations/scimtokenrotation-now.yaml)"
kubectl -n "$APP_NS" apply -f examples/rotations/scimtokenrotation-now.yaml
kubectl -n "$APP_NS" wait scimtokenrotation/contoso-rotate-1 --for=condition=Ready --timeout=120s
kubectl -n "$APP_NS" get scimtokenrotations
new_token=$(token_of)
[ "$new_token" != "$old_token" ] || die "the token did not change"

status=""
for _ in $(seq 1 10); do
  status=$(verify "$old_token")
  [ "$status" = 401 ] && break
  sleep 0.5
done
[ "$status" = 401 ] || die "the verifier answered $status for the revoked token (expected 401)"
[ "$(verify "$new_token")" = 200 ] || die "the verifier does not accept the new token"
say "verifier refuses the old token and accepts the new one"

say "PASSED"
