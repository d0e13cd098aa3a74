{{/* Names and labels shared by every template. */}}

{{- define "scim-token-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "scim-token-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Cluster-scoped objects of one release: unique across namespaces. */}}
{{- define "scim-token-operator.clusterName" -}}
{{- printf "%s-%s" (include "scim-token-operator.fullname" .) .Release.Namespace }}
{{- end }}

{{- define "scim-token-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "scim-token-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "scim-token-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "scim-token-operator.labels" -}}
helm.sh/chart: {{ include "scim-token-operator.chart" . }}
{{ include "scim-token-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: scim-token-operator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "scim-token-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "scim-token-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "scim-token-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The Lease the operator elects a leader with: src/kube/leader-election.ts DEFAULT_LEASE_NAME. The
leader-election Role grants get/update on this name only; test/integration/chart.test.ts checks that
the two agree.
*/}}
{{- define "scim-token-operator.leaseName" -}}
scim-token-operator-leader
{{- end }}

{{/*
Everything the operator does with the API, and nothing more (SPEC §3). Kept in one place for the
ClusterRole (all namespaces) and the per-namespace Roles (watchNamespaces). Each rule names the code
that needs it; test/integration/chart.test.ts compares these rules with an exact list and runs the
operator with nothing else.
*/}}
{{- define "scim-token-operator.operatorRules" -}}
# Informers (list, watch) and live reads (get) of both kinds.
- apiGroups: ["scim.tokens.dev"]
  resources: ["scimdomains", "scimtokenrotations"]
  verbs: ["get", "list", "watch"]
# Completed one-shot rotations with spec.ttlSecondsAfterFinished are deleted after it (opt-in;
# controllers/scimdomain/rotation-ttl.ts), with UID and resourceVersion preconditions.
- apiGroups: ["scim.tokens.dev"]
  resources: ["scimtokenrotations"]
  verbs: ["delete"]
# Status is written with replace (PUT on /status) carrying the resourceVersion it was based on.
- apiGroups: ["scim.tokens.dev"]
  resources: ["scimdomains/status", "scimtokenrotations/status"]
  verbs: ["update"]
# The token Secrets: watched by label, read live, created, replaced, and deleted when they move.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
# Events (core/v1) about ScimDomains and ScimTokenRotations.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end }}

{{/* The Secret with the token-seal key: the user's, or the one this chart generates once. */}}
{{- define "scim-token-operator.tokenSealSecretName" -}}
{{- default (printf "%s-token-seal" (include "scim-token-operator.fullname" .)) .Values.tokenSeal.existingSecret }}
{{- end }}
