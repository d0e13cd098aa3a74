{{/*
Names and labels of the verifier workload (SPEC §3, §4): its own Deployment, ServiceAccount, RBAC,
TLS material and disruption budget, in templates/verifier-*.yaml. The verifier Service (services.yaml)
selects these pods; the controller's pods carry component=controller.
*/}}

{{/* Selector labels of one component: dict "ctx" $ "component" "controller"|"verifier". */}}
{{- define "scim-token-operator.componentSelectorLabels" -}}
{{ include "scim-token-operator.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "scim-token-operator.verifierName" -}}
{{- printf "%s-verifier" (include "scim-token-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "scim-token-operator.verifierServiceAccountName" -}}
{{- if .Values.verifier.serviceAccount.create }}
{{- default (include "scim-token-operator.verifierName" .) .Values.verifier.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.verifier.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Where the verifier's serving certificate comes from:
  secret       verifier.tls.secretName, a kubernetes.io/tls Secret you manage
  certManager  a cert-manager Certificate from verifier.tls.certManager.issuerRef
  generated    a CA the chart generates once (kept across upgrades) signs it (the default)
  selfSigned   each replica makes its own at start (verifier.tls.generate=false; loopback/sidecar)
  insecure     plain HTTP (verifier.insecure=true; loopback/sidecar)
*/}}
{{- define "scim-token-operator.verifierTlsMode" -}}
{{- if .Values.verifier.tls.secretName }}secret
{{- else if .Values.verifier.insecure }}insecure
{{- else if .Values.verifier.tls.certManager.issuerRef.name }}certManager
{{- else if .Values.verifier.tls.generate }}generated
{{- else }}selfSigned
{{- end }}
{{- end }}

{{/* The Secret the verifier mounts its certificate from; empty when it has none to mount. */}}
{{- define "scim-token-operator.verifierTlsSecretName" -}}
{{- $mode := include "scim-token-operator.verifierTlsMode" . }}
{{- if eq $mode "secret" }}{{ .Values.verifier.tls.secretName }}
{{- else if or (eq $mode "certManager") (eq $mode "generated") }}{{ include "scim-token-operator.verifierName" . }}-tls
{{- end }}
{{- end }}

{{/* The Service's DNS names, for the serving certificate (one per line). */}}
{{- define "scim-token-operator.verifierDnsNames" -}}
{{- $svc := include "scim-token-operator.verifierName" . }}
{{- $ns := .Release.Namespace }}
{{ $svc }}
{{ $svc }}.{{ $ns }}
{{ $svc }}.{{ $ns }}.svc
{{ $svc }}.{{ $ns }}.svc.{{ .Values.verifier.clusterDomain }}
{{- end }}

{{/* The verifier's API access: read ScimDomains, nothing else (no Secret, no status, no write). */}}
{{- define "scim-token-operator.verifierRules" -}}
# Informers (list, watch) of ScimDomains; the index is built from their status alone.
- apiGroups: ["scim.tokens.dev"]
  resources: ["scimdomains"]
  verbs: ["get", "list", "watch"]
{{- end }}
