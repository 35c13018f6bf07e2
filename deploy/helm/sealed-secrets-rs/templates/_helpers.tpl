{{/*
Helpers as upstream's chart (helm/sealed-secrets/templates/_helpers.tpl, v0.40.0). The default
name is "sealed-secrets", not the chart name: the labels and the Deployment selector stay those of
an upstream chart release, so `helm upgrade` from upstream's chart to this one works (a selector
cannot change).
*/}}
{{- define "sealed-secrets.name" -}}
{{- default "sealed-secrets" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sealed-secrets.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "sealed-secrets.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Prefix of the Role names: the fullname without a trailing "-controller", so that
fullnameOverride=sealed-secrets-controller gives the Role names of deploy/base (and of upstream's
controller.yaml): sealed-secrets-key-admin, sealed-secrets-service-proxier.
*/}}
{{- define "sealed-secrets.rolePrefix" -}}
{{- include "sealed-secrets.fullname" . | trimSuffix "-controller" -}}
{{- end -}}

{{- define "sealed-secrets.namespace" -}}
{{- default .Release.Namespace .Values.namespace -}}
{{- end -}}

{{- define "sealed-secrets.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sealed-secrets.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ default (include "sealed-secrets.fullname" .) .Values.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.serviceAccount.name }}
{{- end -}}
{{- end -}}

{{- define "sealed-secrets.labels" -}}
app.kubernetes.io/name: {{ include "sealed-secrets.name" . }}
helm.sh/chart: {{ include "sealed-secrets.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: sealed-secrets
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "sealed-secrets.matchLabels" -}}
app.kubernetes.io/name: {{ include "sealed-secrets.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* metadata.annotations of every object (commonAnnotations plus the object's own), with its
newline and indentation, or nothing. */}}
{{- define "sealed-secrets.annotations" -}}
{{- $a := merge (dict) (.own | default dict) (.context.Values.commonAnnotations | default dict) -}}
{{- with $a }}
  annotations: {{- toYaml . | nindent 4 }}
{{- end }}
{{- end -}}

{{/* Leader election: asked for, or needed by more than one replica. */}}
{{- define "sealed-secrets.leaderElect" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicas) 1) -}}true{{- end -}}
{{- end -}}

{{/* The Lease name (--leader-elect-resource-name; the controller's default). */}}
{{- define "sealed-secrets.leaseName" -}}
{{- default "sealed-secrets-controller" .Values.leaderElection.resourceName -}}
{{- end -}}

{{/* The namespaces a namespace-restricted install unseals in: its own and additionalNamespaces. */}}
{{- define "sealed-secrets.unsealNamespaces" -}}
{{- $ns := list (include "sealed-secrets.namespace" .) -}}
{{- range .Values.additionalNamespaces }}{{ $ns = append $ns . }}{{ end -}}
{{- toJson (uniq $ns) -}}
{{- end -}}

{{/* The rules of the unsealer (ClusterRole, or Role per namespace), as upstream's chart. */}}
{{- define "sealed-secrets.unsealerRules" -}}
- apiGroups: ["bitnami.com"]
  resources: ["sealedsecrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["bitnami.com"]
  resources: ["sealedsecrets/status"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "create", "update", "delete", "watch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end -}}
