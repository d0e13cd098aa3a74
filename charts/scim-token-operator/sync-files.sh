#!/usr/bin/env bash
# Refreshes the chart's copies of files whose source lives elsewhere in the repository. Helm can only
# read files inside the chart directory (and symlinks are not packaged portably), so the chart holds
# byte-identical copies; test/integration/chart.test.ts fails when a copy drifts.
#
#   crds/*.yaml                             -> charts/scim-token-operator/crds/
#   config/rbac/user-roles.yaml             -> charts/scim-token-operator/files/user-roles.yaml
#   config/admission/rotation-policy.yaml   -> charts/scim-token-operator/files/rotation-policy.yaml
#   config/admission/controller-secrets-policy.yaml -> charts/scim-token-operator/files/controller-secrets-policy.yaml
set -euo pipefail
chart=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$chart/../.." && pwd)
rm -f "$chart"/crds/*.yaml
cp "$root"/crds/*.yaml "$chart/crds/"
cp "$root/config/rbac/user-roles.yaml" "$chart/files/user-roles.yaml"
cp "$root/config/admission/rotation-policy.yaml" "$chart/files/rotation-policy.yaml"
cp "$root/config/admission/controller-secrets-policy.yaml" "$chart/files/controller-secrets-policy.yaml"
echo "chart copies refreshed from crds/ and config/"
