#!/usr/bin/env bash
# npm run demo — the whole token lifecycle on a real local Kubernetes control plane, in one command
# (SPEC §5 local mode): start the control plane (building it the first time), install the CRDs, the
# rotation admission policy and the user roles, build and start the operator with its verifier on
# loopback, add a domain with `kubectl scim`, show the verifier accepting its token, rotate it, show
# the old token rejected and the new one accepted — then leave everything running.
#
#   scripts/demo.sh          run the demo (re-runnable: reuses the control plane and the demo domain,
#                            restarts the operator of an earlier run on the fresh build)
#   scripts/demo.sh down     stop the demo's operator and the control plane (npm run demo:down)
#
# Tokens appear only where `kubectl scim add` and `kubectl scim rotate` print them by design; the
# tokens this script uses for its own checks are captured into variables and sent to curl on stdin,
# never echoed and never on a command line.
#
# Environment (the defaults suit a newcomer; CI and test/integration/cli-demo.test.ts set them to run
# next to other tests on a shared control plane):
#   SCIM_CLUSTER_DIR        control plane state, as test/controlplane/cluster.sh (default .cluster/)
#   SCIM_DEMO_DIR           the operator's pid file, log and the kubectl-scim shim (default: SCIM_CLUSTER_DIR)
#   SCIM_DEMO_NAMESPACE     namespace of the demo domain, and the only one its operator watches
#                           (default: default) — so `npm test` can share the control plane with a
#                           running demo without a second operator reconciling the tests' namespaces
#   SCIM_DEMO_DOMAIN        the demo's email domain (default demo.example; unique per cluster)
#   SCIM_DEMO_VERIFY_ADDR   verifier listen address (default 127.0.0.1:8443, plain HTTP)
#   SCIM_DEMO_METRICS_ADDR  metrics, /healthz and /readyz (default 127.0.0.1:8080)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

W=${SCIM_CLUSTER_DIR:-$root/.cluster}
D=${SCIM_DEMO_DIR:-$W}
NS=${SCIM_DEMO_NAMESPACE:-default}
DOMAIN=${SCIM_DEMO_DOMAIN:-demo.example}
NAME=${DOMAIN//./-}
VERIFY_ADDR=${SCIM_DEMO_VERIFY_ADDR:-127.0.0.1:8443}
METRICS_ADDR=${SCIM_DEMO_METRICS_ADDR:-127.0.0.1:8080}
SCIM_BASE_URL=https://app.example.com/scim/v2
PID_FILE=$D/operator.pid
LOG=$D/logs/operator.log
VERIFY_URL=http://$VERIFY_ADDR

step() { printf '\n==> %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; }
die() {
  printf '\ndemo: ERROR: %s\n' "$*" >&2
  exit 1
}
# Paths inside the repository are printed relative to it: that is where npm runs.
rel() { case $1 in "$root"/*) printf '%s' "${1#"$root"/}" ;; *) printf '%s' "$1" ;; esac; }

# The operator a previous demo started, if its pid still runs our entrypoint (a recycled pid is left alone).
demo_operator_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid=$(cat "$PID_FILE")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'dist/src/main.js' || return 1
  printf '%s' "$pid"
}

stop_demo_operator() {
  local pid
  pid=$(demo_operator_pid) || {
    rm -f "$PID_FILE"
    return 0
  }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$PID_FILE"
  printf 'stopped the demo operator (pid %s)\n' "$pid"
}

if [ "${1:-}" = down ]; then
  stop_demo_operator
  bash "$root/test/controlplane/cluster.sh" down
  exit 0
fi
[ $# -eq 0 ] || die "usage: scripts/demo.sh [down]"

for tool in node npm curl; do
  command -v "$tool" >/dev/null || die "$tool is needed (see the README's quickstart)"
done

in_use() { # host:port -> true if something accepts connections there
  (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null
}

step "Starting the local Kubernetes control plane (the first run builds it from source: 10-25 minutes, with progress)"
bash "$root/test/controlplane/cluster.sh" up
eval "$(bash "$root/test/controlplane/cluster.sh" env)"
export KUBECONFIG
BIN_DIR=$(dirname "$(command -v kubectl)")

step "Installing the user roles and the admission policies (config/rbac, config/admission), bound to namespace $NS"
kubectl get namespace "$NS" >/dev/null 2>&1 || kubectl create namespace "$NS"
kubectl apply --server-side --force-conflicts --field-manager scim-token-operator-demo -f "$root/config/rbac"
# The policies name the operator (here: you, the kubeconfig's user) and the controllers that may
# delete token Secrets (this control plane's kube-controller-manager runs as scim-kcm). They bind to
# the demo's namespace only: the local control plane is shared with the tests.
me=$(kubectl auth whoami -o jsonpath='{.status.userInfo.username}')
node --import tsx "$root/scripts/admission.ts" --operators "$me" \
  --controllers "scim-kcm,system:serviceaccount:kube-system:generic-garbage-collector,system:serviceaccount:kube-system:namespace-controller" \
  --scope-namespace "$NS" |
  kubectl apply --server-side --force-conflicts --field-manager scim-token-operator-demo -f -

step "Building the operator and kubectl-scim (npm run build)"
npm run --silent build

step "Starting the operator (watching namespace $NS) with its verifier on $VERIFY_URL"
mkdir -p "$D/logs" "$D/bin"
if pid=$(demo_operator_pid); then
  echo "an operator from an earlier demo is running (pid $pid); restarting it on the fresh build"
  stop_demo_operator >/dev/null
fi
for addr in "$VERIFY_ADDR" "$METRICS_ADDR"; do
  in_use "$addr" && die "something else is listening on $addr; stop it, or pick other addresses with SCIM_DEMO_VERIFY_ADDR / SCIM_DEMO_METRICS_ADDR"
done
# The key that seals the tokens the operator writes (kept across demo runs, readable only by you).
[ -s "$D/seal.key" ] || (umask 077 && head -c 32 /dev/urandom >"$D/seal.key")
# setsid: the operator outlives this script and a Ctrl-C in the terminal that started it.
setsid node --max-semi-space-size=1 "$root/dist/src/main.js" --kubeconfig "$KUBECONFIG" --namespace "$NS" \
  --verify-addr "$VERIFY_ADDR" --verify-insecure --metrics-addr "$METRICS_ADDR" --drain-period 0s \
  --token-seal-key-file "$D/seal.key" \
  >>"$LOG" 2>&1 </dev/null &
echo $! >"$PID_FILE"
operator_pid=$!
for i in $(seq 1 240); do
  curl -sf "http://$METRICS_ADDR/readyz" >/dev/null 2>&1 && break
  if ! kill -0 "$operator_pid" 2>/dev/null; then
    tail -n 20 "$LOG" >&2 || true
    die "the operator exited during start-up; its log is $(rel "$LOG")"
  fi
  [ "$i" -lt 240 ] || die "the operator was not ready after 60s; see $(rel "$LOG")"
  sleep 0.25
done
echo "operator ready (pid $operator_pid, log $(rel "$LOG"))"

# `kubectl scim` is kubectl's plugin mechanism: an executable named kubectl-scim on PATH.
cat >"$D/bin/kubectl-scim" <<SHIM
#!/bin/sh
exec node "$root/dist/src/cli/main.js" "\$@"
SHIM
chmod +x "$D/bin/kubectl-scim"
export PATH="$D/bin:$PATH"

ns_args=()
[ "$NS" = default ] || ns_args=(-n "$NS")

step "Adding the domain $DOMAIN"
if kubectl get scimdomain "$NAME" -n "$NS" >/dev/null 2>&1; then
  echo "ScimDomain $NS/$NAME exists from an earlier demo; using it (its token was printed then; kubectl scim token $NAME${ns_args[*]:+ ${ns_args[*]}} shows it)"
else
  show kubectl scim add "$DOMAIN" --idp EntraID --scim-base-url "$SCIM_BASE_URL" "${ns_args[@]}"
  kubectl scim add "$DOMAIN" --idp EntraID --scim-base-url "$SCIM_BASE_URL" "${ns_args[@]}"
fi

step "Listing domains"
show kubectl scim domains "${ns_args[@]}"
kubectl scim domains "${ns_args[@]}"

# The token for our own checks: read like any user would, kept in a variable, never printed.
current_token() {
  local err
  err=$(mktemp)
  if ! kubectl scim token "$NAME" "${ns_args[@]}" 2>"$err"; then
    cat "$err" >&2
    rm -f "$err"
    return 1
  fi
  rm -f "$err"
}

# verify TOKEN -> sets STATUS, REASON and the X-Scim-* headers of GET /v1/verify
verify() {
  local headers body
  headers=$(mktemp)
  body=$(mktemp)
  # The header comes from stdin (-H @-): the token is never on a command line (ps shows those).
  printf 'Authorization: Bearer %s\n' "$1" |
    curl -s -o "$body" -D "$headers" -H @- "$VERIFY_URL/v1/verify" || true
  STATUS=$(awk 'NR==1 {print $2}' "$headers")
  GRANT=$(grep -i '^x-scim-domain' "$headers" | tr -d '\r' | sed 's/^/    /' || true)
  REASON=$(sed -n 's/.*"reason":"\([^"]*\)".*/\1/p' "$body")
  rm -f "$headers" "$body"
}

# wait_verify TOKEN WANT_STATUS: the verifier follows the cluster by watch; give it a moment.
wait_verify() {
  for _ in $(seq 1 40); do
    verify "$1"
    [ "$STATUS" = "$2" ] && return 0
    sleep 0.25
  done
  return 1
}

show_verify() { # LABEL
  show "curl -H \"Authorization: Bearer <$1>\" $VERIFY_URL/v1/verify"
  if [ "$STATUS" = 200 ]; then
    printf '  HTTP %s: accepted\n%s\n' "$STATUS" "$GRANT"
  else
    printf '  HTTP %s: rejected, reason "%s"\n' "$STATUS" "$REASON"
  fi
}

step "The verifier accepts the token (what the application's SCIM endpoint asks on every request)"
old_token=$(current_token) || die "could not read the token of $NS/$NAME"
wait_verify "$old_token" 200 || die "the verifier did not accept the current token (HTTP ${STATUS:-?})"
show_verify "the token"

step "Rotating the token (the old one stops working at once)"
show kubectl scim rotate "$NAME" --yes "${ns_args[@]}"
kubectl scim rotate "$NAME" --yes "${ns_args[@]}"
new_token=$(current_token) || die "could not read the new token of $NS/$NAME"
[ "$new_token" != "$old_token" ] || die "the token did not change"

step "The verifier rejects the old token and accepts the new one"
wait_verify "$old_token" 401 || die "the verifier still accepts the old token (HTTP ${STATUS:-?})"
[ "$REASON" = revoked ] || die "the old token was rejected as \"$REASON\", expected \"revoked\""
show_verify "the old token"
wait_verify "$new_token" 200 || die "the verifier did not accept the new token (HTTP ${STATUS:-?})"
show_verify "the new token"
unset old_token new_token

state=$(bash "$root/test/controlplane/cluster.sh" status 2>/dev/null | head -n 1 | sed 's/^\[cluster\] //')
cat <<DONE

==> Done. Everything is still running:
  ${state}
  operator (pid $operator_pid): verifier $VERIFY_URL/v1/verify, metrics http://$METRICS_ADDR/metrics
  operator log: $(rel "$LOG")

Explore (in another shell, in $root):
  export KUBECONFIG=$(rel "$KUBECONFIG")
  export PATH=$(rel "$D/bin"):$BIN_DIR:\$PATH     # kubectl-scim and the matching kubectl
  kubectl get scim${ns_args[*]:+ ${ns_args[*]}}                                # both kinds, with domain, IdP, readiness, fingerprint
  kubectl scim domains${ns_args[*]:+ ${ns_args[*]}}
  kubectl scim add contoso.example --idp Okta --scim-base-url $SCIM_BASE_URL${ns_args[*]:+ ${ns_args[*]}}
  kubectl scim token $NAME${ns_args[*]:+ ${ns_args[*]}} | kubectl scim verify
  kubectl scim rotate $NAME${ns_args[*]:+ ${ns_args[*]}}      # warns, then asks y/N
  kubectl apply -f examples/${ns_args[*]:+ ${ns_args[*]}} && kubectl get scimdomains,scimtokenrotations${ns_args[*]:+ ${ns_args[*]}}
  tail -f $(rel "$LOG")

Stop:
  npm run demo:down     # stops the operator (pid $operator_pid) and the control plane, and removes $(rel "$W")/
DONE
