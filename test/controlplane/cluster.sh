#!/usr/bin/env bash
# The local Kubernetes control plane: etcd -> kube-apiserver -> kube-controller-manager, built from
# the Go modules in this folder (build.sh) and run the way envtest runs them.
#
#   cluster.sh build    build (or find in the cache) the binaries
#   cluster.sh up       start it, or reuse the one already running; writes .cluster/kubeconfig
#   cluster.sh down     stop it and remove its state
#   cluster.sh status   say whether it runs, and where
#   cluster.sh env      print shell exports (KUBECONFIG, PATH with the matching kubectl)
#   cluster.sh stop|start|restart etcd|kube-apiserver   fault injection for tests (same ports and data)
#
# State lives in $SCIM_CLUSTER_DIR (default: <repo>/.cluster): pki/, etcd/, logs/<process>.log,
# state.env (ports, pids, binaries) and kubeconfig (client-certificate admin, system:masters).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=${SCIM_CLUSTER_DIR:-$root/.cluster}
STATE="$W/state.env"

say() { printf '[cluster] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# wait_for SECONDS WHAT PID CMD... : polls CMD; fails early with the log tail if PID died.
wait_for() {
  local limit=$1 what=$2 pid=$3; shift 3
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ! alive "$pid"; then
      say "$what exited during start-up; last lines of $W/logs/$what.log:"
      tail -n 30 "$W/logs/$what.log" >&2 || true
      return 1
    fi
    if ((SECONDS >= end)); then
      say "$what was not ready after ${limit}s; last lines of $W/logs/$what.log:"
      tail -n 30 "$W/logs/$what.log" >&2 || true
      return 1
    fi
    sleep 0.25
  done
}

api_get() { # PATH -> prints body, fails unless 2xx
  curl -sf --cacert "$W/pki/ca.crt" --cert "$W/pki/admin.crt" --key "$W/pki/admin.key" \
    "https://127.0.0.1:${API_PORT}$1"
}

is_running() {
  [ -f "$STATE" ] || return 1
  # shellcheck disable=SC1090
  . "$STATE"
  alive "${ETCD_PID:-}" && alive "${API_PID:-}" && alive "${KCM_PID:-}" && api_get /readyz >/dev/null 2>&1
}

stop_all() {
  [ -f "$STATE" ] || return 0
  # shellcheck disable=SC1090
  . "$STATE"
  local pid
  for pid in "${KCM_PID:-}" "${API_PID:-}" "${ETCD_PID:-}"; do stop_pid "$pid"; done
}

print_usage() {
  cat <<MSG
[cluster] control plane ready: Kubernetes ${K8S_VERSION} at https://127.0.0.1:${API_PORT}
  export KUBECONFIG=$W/kubeconfig
  export PATH=$BIN_DIR:\$PATH        # kubectl matching the server
  kubectl get scimdomains -A
  logs: $W/logs/   stop: npm run cluster:down
MSG
}

cmd_build() { "$here/build.sh"; }

install_crds() {
  local crds=("$root"/crds/*.yaml)
  [ -e "${crds[0]}" ] || return 0
  "$BIN_DIR/kubectl" --kubeconfig "$W/kubeconfig" apply --server-side --force-conflicts -f "$root/crds/" >&2
  "$BIN_DIR/kubectl" --kubeconfig "$W/kubeconfig" wait --for condition=Established --timeout=60s \
    -f "$root/crds/" >/dev/null
}

gc_canary() {
  local k=("$BIN_DIR/kubectl" --kubeconfig "$W/kubeconfig" -n kube-system)
  "${k[@]}" delete configmap/gc-canary-owner secret/gc-canary-dep --ignore-not-found >/dev/null 2>&1 || true
  local uid
  uid=$("${k[@]}" create configmap gc-canary-owner -o jsonpath='{.metadata.uid}')
  "${k[@]}" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: gc-canary-dep
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: gc-canary-owner, uid: "$uid"}
YAML
  "${k[@]}" delete configmap gc-canary-owner --wait=false >/dev/null
  secret_gone() { ! "${k[@]}" get secret gc-canary-dep >/dev/null 2>&1; }
  wait_for 90 kube-controller-manager "$KCM_PID" secret_gone
}

start_etcd() {
  setsid "$BIN_DIR/etcd" --name=default --data-dir="$W/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$PEER_PORT" \
    --initial-cluster="default=http://127.0.0.1:$PEER_PORT" \
    --unsafe-no-fsync=true --log-level=warn \
    >>"$W/logs/etcd.log" 2>&1 </dev/null &
  ETCD_PID=$!
  write_state
  wait_for 60 etcd "$ETCD_PID" curl -sf "http://127.0.0.1:$ETCD_PORT/health" || die "etcd did not start"
}

# SCIM_APISERVER_EXTRA_ARGS: more kube-apiserver flags, e.g. for fault tests
# ("--watch-cache=false --etcd-compaction-interval=5s").
start_apiserver() {
  # shellcheck disable=SC2086
  setsid "$BIN_DIR/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
    --cert-dir="$W/apiserver" \
    --tls-cert-file="$W/pki/apiserver.crt" --tls-private-key-file="$W/pki/apiserver.key" \
    --client-ca-file="$W/pki/ca.crt" \
    --authorization-mode=RBAC \
    --service-account-issuer="https://127.0.0.1:$API_PORT" \
    --service-account-key-file="$W/pki/sa.pub" \
    --service-account-signing-key-file="$W/pki/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --endpoint-reconciler-type=none \
    --disable-admission-plugins=ServiceAccount \
    --allow-privileged=true --profiling=false --v=1 ${APISERVER_EXTRA_ARGS:-} \
    >>"$W/logs/kube-apiserver.log" 2>&1 </dev/null &
  API_PID=$!
  write_state
  wait_for 120 kube-apiserver "$API_PID" api_get /readyz || die "kube-apiserver did not become ready"
}

stop_pid() {
  local pid=$1
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do alive "$pid" || return 0; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
}

# Fault injection for tests: stop or restart one process of a running control plane, same ports.
cmd_process() {
  local action=$1 what=$2
  is_running_or_partial || die "no control plane in $W"
  case "$what" in
    etcd) [ "$action" = start ] || stop_pid "$ETCD_PID"; [ "$action" = stop ] || start_etcd ;;
    kube-apiserver) [ "$action" = start ] || stop_pid "$API_PID"; [ "$action" = stop ] || start_apiserver ;;
    *) die "usage: cluster.sh stop|start|restart etcd|kube-apiserver" ;;
  esac
  say "$action $what: done"
}

is_running_or_partial() {
  [ -f "$STATE" ] || return 1
  # shellcheck disable=SC1090
  . "$STATE"
}

cmd_up() {
  if is_running; then
    say "reusing the control plane already running in $W"
    install_crds
    print_usage
    return 0
  fi
  BIN_DIR=$("$here/build.sh")
  K8S_VERSION=$("$BIN_DIR/kube-apiserver" --version | awk '{print $2}')
  stop_all
  rm -rf "$W"
  mkdir -p "$W/logs" "$W/etcd" "$W/apiserver" "$W/kcm"
  chmod 700 "$W"
  say "starting Kubernetes ${K8S_VERSION} in $W"
  "$here/gen-pki.sh" "$W/pki"

  ETCD_PORT=$(free_port) PEER_PORT=$(free_port) API_PORT=$(free_port) KCM_PORT=$(free_port)
  APISERVER_EXTRA_ARGS=${SCIM_APISERVER_EXTRA_ARGS:-}

  start_etcd
  say "etcd ready on 127.0.0.1:$ETCD_PORT"

  start_apiserver
  wait_for 60 kube-apiserver "$API_PID" api_get /api/v1/namespaces/default || die "namespace default never appeared"
  "$here/write-kubeconfig.sh" "$W/pki" "https://127.0.0.1:$API_PORT" admin "$W/kubeconfig"
  "$here/write-kubeconfig.sh" "$W/pki" "https://127.0.0.1:$API_PORT" kcm "$W/kcm.kubeconfig"
  say "kube-apiserver ready on 127.0.0.1:$API_PORT"
  # CRDs before the controller manager: its garbage collector then watches them from the start
  # instead of discovering them on its next 30 s resync.
  install_crds

  setsid "$BIN_DIR/kube-controller-manager" \
    --kubeconfig="$W/kcm.kubeconfig" \
    --authentication-kubeconfig="$W/kcm.kubeconfig" --authorization-kubeconfig="$W/kcm.kubeconfig" \
    --controllers=garbage-collector-controller,namespace-controller,serviceaccount-controller,clusterrole-aggregation-controller \
    --leader-elect=false --use-service-account-credentials=false \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --cert-dir="$W/kcm" --v=1 \
    >"$W/logs/kube-controller-manager.log" 2>&1 </dev/null &
  KCM_PID=$!
  write_state
  wait_for 60 kube-controller-manager "$KCM_PID" curl -sfk "https://127.0.0.1:$KCM_PORT/healthz" ||
    die "kube-controller-manager did not become healthy"
  gc_canary || die "garbage collection canary was not collected within 90s"
  say "kube-controller-manager ready (garbage collector answered the canary)"
  print_usage
}

write_state() {
  umask 077
  cat >"$STATE" <<EOS
K8S_VERSION=$K8S_VERSION
BIN_DIR=$BIN_DIR
ETCD_PORT=$ETCD_PORT
PEER_PORT=$PEER_PORT
API_PORT=$API_PORT
KCM_PORT=$KCM_PORT
ETCD_PID=${ETCD_PID:-}
API_PID=${API_PID:-}
KCM_PID=${KCM_PID:-}
APISERVER_EXTRA_ARGS="${APISERVER_EXTRA_ARGS:-}"
EOS
}

cmd_down() {
  if [ ! -d "$W" ]; then say "nothing to stop ($W does not exist)"; return 0; fi
  stop_all
  rm -rf "$W"
  say "stopped and removed $W"
}

cmd_status() {
  if is_running; then
    print_usage
  else
    say "not running (state dir: $W)"
    return 1
  fi
}

cmd_env() {
  is_running || die "not running; start it with: npm run cluster:up"
  echo "export KUBECONFIG=$W/kubeconfig"
  echo "export PATH=$BIN_DIR:\$PATH"
}

case "${1:-}" in
  build) cmd_build ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  stop | start | restart) cmd_process "$1" "${2:-}" ;;
  *) die "usage: cluster.sh build|up|down|status|env" ;;
esac
