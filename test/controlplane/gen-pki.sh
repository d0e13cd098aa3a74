#!/usr/bin/env bash
# gen-pki.sh DIR -- a throwaway PKI for the local control plane (valid 30 days).
# Client certificates carry the user in CN and the groups in O; system:masters bypasses RBAC.
set -euo pipefail
D=${1:?usage: gen-pki.sh DIR}
mkdir -p "$D"
cd "$D"
days=30
openssl req -x509 -newkey rsa:2048 -nodes -days $days -keyout ca.key -out ca.crt \
  -subj "/CN=scim-token-operator-test-ca" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
issue() { # NAME SUBJECT EXTENSIONS
  local name=$1 subj=$2 ext=$3
  openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj" 2>/dev/null
  printf '%b\n' "$ext" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
    -days $days -out "$name.crt" -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}
issue apiserver "/CN=kube-apiserver" \
  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
CLIENT="basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth"
issue admin "/O=system:masters/CN=scim-admin" "$CLIENT"
issue kcm "/O=system:masters/CN=scim-kcm" "$CLIENT"
openssl genrsa -out sa.key 2048 2>/dev/null
openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
chmod 600 ./*.key
