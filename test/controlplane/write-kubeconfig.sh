#!/usr/bin/env bash
# write-kubeconfig.sh PKI_DIR SERVER_URL USER OUT   (USER = basename of USER.crt/USER.key in PKI_DIR)
set -euo pipefail
P=$1 SERVER=$2 U=$3 OUT=$4
b64() { base64 -w0 <"$1"; }
umask 077
cat >"$OUT" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: scim-local
  cluster:
    server: ${SERVER}
    certificate-authority-data: $(b64 "$P/ca.crt")
users:
- name: ${U}
  user:
    client-certificate-data: $(b64 "$P/$U.crt")
    client-key-data: $(b64 "$P/$U.key")
contexts:
- name: scim-local
  context: {cluster: scim-local, user: ${U}, namespace: default}
current-context: scim-local
YAML
