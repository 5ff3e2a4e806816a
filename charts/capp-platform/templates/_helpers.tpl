{{/*
Chart name (63 characters at most: label values and DNS names).
*/}}
{{- define "capp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every resource name: <release>-<chart> (or the release alone when it already contains the
chart name). Kept at 40 characters so the longest suffix (-webhook-cert, -operator-metrics, ...) fits 63.
*/}}
{{- define "capp.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "capp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Standard labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/).
*/}}
{{- define "capp.labels" -}}
helm.sh/chart: {{ include "capp.chart" . }}
app.kubernetes.io/name: {{ include "capp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: capp-platform
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels of one component: include "capp.selectorLabels" (dict "ctx" $ "component" "operator").
*/}}
{{- define "capp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "capp.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "capp.componentLabels" -}}
{{ include "capp.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "capp.operator.fullname" -}}
{{- printf "%s-operator" (include "capp.fullname" .) }}
{{- end }}

{{- define "capp.api.fullname" -}}
{{- printf "%s-api" (include "capp.fullname" .) }}
{{- end }}

{{- define "capp.webhook.serviceName" -}}
{{- printf "%s-webhook" (include "capp.fullname" .) }}
{{- end }}

{{- define "capp.webhook.certSecret" -}}
{{- printf "%s-webhook-cert" (include "capp.fullname" .) }}
{{- end }}

{{- define "capp.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "capp.operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "capp.api.serviceAccountName" -}}
{{- if .Values.api.serviceAccount.create }}
{{- default (include "capp.api.fullname" .) .Values.api.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.api.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference: include "capp.image" (dict "image" .Values.operator.image "ctx" $).
*/}}
{{- define "capp.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) }}
{{- end }}
{{- end }}

{{/*
The Secret and key of a connection URL: include "capp.api.urlRef" (dict "ctx" $ "conn" .Values.api.database "key" "DATABASE_URL").
*/}}
{{- define "capp.api.urlRef" -}}
{{- if .conn.existingSecret }}
name: {{ .conn.existingSecret }}
key: {{ .conn.existingSecretKey }}
{{- else }}
name: {{ include "capp.api.fullname" .ctx }}-connection
key: {{ .key }}
{{- end }}
{{- end }}

{{/*
Namespaces the webhooks skip: the release namespace and webhook.excludeNamespaces.
*/}}
{{- define "capp.webhook.namespaceSelector" -}}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
      {{- range (concat (list .Release.Namespace) .Values.webhook.excludeNamespaces | uniq) }}
      - {{ . | quote }}
      {{- end }}
{{- end }}

{{/*
DATABASE_URL / REDIS_URL of the API and its migrations, from values (the chart's Secret) or an
existing Secret: include "capp.api.urlEnv" (dict "ctx" $ "name" "DATABASE_URL" "conn" .Values.api.database).
*/}}
{{- define "capp.api.urlEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      {{- include "capp.api.urlRef" (dict "ctx" .ctx "conn" .conn "key" .name) | trim | nindent 6 }}
{{- end }}
