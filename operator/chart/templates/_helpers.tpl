{{/* The chart's name, for the app.kubernetes.io/name label. */}}
{{- define "paved-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of every object: the release name when it holds the chart's name
(`helm install paved-operator …` gives paved-operator), else
<release>-<chart>.
*/}}
{{- define "paved-operator.fullname" -}}
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

{{/* The namespace of the namespaced objects. */}}
{{- define "paved-operator.namespace" -}}
{{- default .Release.Namespace .Values.namespace }}
{{- end }}

{{- define "paved-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "paved-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "paved-operator.labels" -}}
{{ include "paved-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: paved
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "paved-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "paved-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "paved-operator.leaseName" -}}
{{- default (include "paved-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "paved-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Checks of values across keys, which values.schema.json cannot express.
Durations are Go-style (ms, s, m), compared in milliseconds.
*/}}
{{- define "paved-operator.durationMs" -}}
{{- $d := toString . }}
{{- if hasSuffix "ms" $d }}{{ trimSuffix "ms" $d | int64 }}
{{- else if hasSuffix "s" $d }}{{ mul (trimSuffix "s" $d | int64) 1000 }}
{{- else if hasSuffix "m" $d }}{{ mul (trimSuffix "m" $d | int64) 60000 }}
{{- end }}
{{- end }}

{{- define "paved-operator.validate" -}}
{{- $le := .Values.leaderElection }}
{{- if and (not $le.enabled) (gt (int .Values.replicas) 1) }}
{{- fail (printf "replicas is %d but leaderElection.enabled is false: more than one replica needs leader election, or they would reconcile the same objects at once" (int .Values.replicas)) }}
{{- end }}
{{- if $le.enabled }}
{{- $lease := include "paved-operator.durationMs" $le.leaseDuration | int64 }}
{{- $renew := include "paved-operator.durationMs" $le.renewDeadline | int64 }}
{{- $retry := include "paved-operator.durationMs" $le.retryPeriod | int64 }}
{{- if not (and (gt $lease $renew) (gt $renew $retry)) }}
{{- fail (printf "leaderElection needs leaseDuration > renewDeadline > retryPeriod, not %s, %s, %s" $le.leaseDuration $le.renewDeadline $le.retryPeriod) }}
{{- end }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.enabled) }}
{{- fail "metrics.serviceMonitor.enabled needs metrics.enabled: the ServiceMonitor scrapes the metrics Service" }}
{{- end }}
{{- end }}
