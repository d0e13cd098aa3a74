#!/usr/bin/env bash
# Refreshes the chart's copies of files whose source lives elsewhere in the repository. Helm can only
# read files inside the chart directory (and symlinks are not packaged portably), so the chart holds
# byte-identical copies; test/integration/chart.test.ts fails when a copy drifts.
#
#   crds/*.yaml                             -> charts/scim-token-operator/files/crds/
#   config/rbac/user-roles.yaml             -> charts/scim-token-operator/files/user-roles.yaml
#   config/admission/*-policy.yaml          -> charts/scim-token-operator/files/*-policy.yaml
#
# The chart's README.md is generated from values.yaml: $(bash test/helm-docs/build.sh) --chart-search-root charts --sort-values-order file
set -euo pipefail
chart=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$chart/../.." && pwd)
mkdir -p "$chart/files/crds"
rm -f "$chart"/files/crds/*.yaml
cp "$root"/crds/*.yaml "$chart/files/crds/"
cp "$root/config/rbac/user-roles.yaml" "$chart/files/user-roles.yaml"
for f in rotation-policy token-secret-policy domain-policy requested-by-policy controller-secrets-policy; do
  cp "$root/config/admission/$f.yaml" "$chart/files/$f.yaml"
done
echo "chart copies refreshed from crds/ and config/"
