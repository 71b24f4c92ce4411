{{/*
The six services, in a fixed order, and the peers each one calls.
*/}}
{{- define "livedesk.serviceNames" -}}
routing conversations blocking scheduling reporting notifications
{{- end }}

{{- define "livedesk.peers" -}}
conversations: [blocking, scheduling, routing, reporting, notifications]
blocking: [conversations]
scheduling: [routing, blocking]
{{- end }}

{{- define "livedesk.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Release-wide prefix of object names.
*/}}
{{- define "livedesk.fullname" -}}
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

{{- define "livedesk.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object. Call with (dict "root" $ "component" "routing").
*/}}
{{- define "livedesk.labels" -}}
helm.sh/chart: {{ include "livedesk.chart" .root }}
{{ include "livedesk.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: livedesk
{{- end }}

{{- define "livedesk.selectorLabels" -}}
app.kubernetes.io/name: {{ include "livedesk.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Labels shared by every pod of the release (NetworkPolicy peers).
*/}}
{{- define "livedesk.releasePodLabels" -}}
app.kubernetes.io/name: {{ include "livedesk.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Image of a service: <registry>/<repository>/<service>:<tag>.
*/}}
{{- define "livedesk.image" -}}
{{- $v := .root.Values.image }}
{{- printf "%s/%s/%s:%s" $v.registry $v.repository .service (default .root.Chart.AppVersion $v.tag) }}
{{- end }}

{{- define "livedesk.upper" -}}
{{- . | upper | replace "-" "_" }}
{{- end }}

{{/*
Whether any service reads an auth file mounted from the auth Secret.
*/}}
{{- define "livedesk.authFileKeys" -}}
{{- $k := .Values.auth.keys }}
{{- $out := dict }}
{{- if $k.publicKey }}{{ $_ := set $out "LIVEDESK_AUTH_PUBLIC_KEY_FILE" $k.publicKey }}{{ end }}
{{- if $k.jwks }}{{ $_ := set $out "LIVEDESK_AUTH_JWKS_FILE" $k.jwks }}{{ end }}
{{- if $k.signingKey }}{{ $_ := set $out "LIVEDESK_AUTH_SIGNING_KEY_FILE" $k.signingKey }}{{ end }}
{{- toYaml $out }}
{{- end }}

{{/*
Non-secret configuration of a service (the ConfigMap's data, and the
migration Job's environment). Call with (dict "root" $ "service" "routing").
*/}}
{{- define "livedesk.configData" -}}
{{- $root := .root }}
{{- $svc := .service }}
{{- $S := include "livedesk.upper" $svc }}
{{- $values := index $root.Values.services $svc }}
{{- $fullname := include "livedesk.fullname" $root }}
{{- $data := dict }}
{{- $_ := set $data (printf "LIVEDESK_%s__GRPC_ADDR" $S) "0.0.0.0:50051" }}
{{- $_ := set $data (printf "LIVEDESK_%s__METRICS_ADDR" $S) "0.0.0.0:9090" }}
{{- $_ := set $data (printf "LIVEDESK_%s__MIGRATE_ON_START" $S) (ternary "true" "false" $root.Values.bundled.postgresql.enabled) }}
{{- $peers := include "livedesk.peers" $root | fromYaml }}
{{- range $peer := (index $peers $svc | default list) }}
{{- $pv := index $root.Values.services $peer }}
{{- $url := index ($values.peerUrls | default dict) $peer }}
{{- if not $url }}
{{- if not $pv.enabled }}
{{- fail (printf "services.%s calls %s, which is disabled: set services.%s.peerUrls.%s" $svc $peer $svc $peer) }}
{{- end }}
{{- $url = printf "http://%s-%s-headless:50051" $fullname $peer }}
{{- end }}
{{- $_ := set $data (printf "LIVEDESK_%s__%s_URL" $S (include "livedesk.upper" $peer)) $url }}
{{- end }}
{{- if eq $svc "conversations" }}
{{- if $values.attachments.url }}
{{- $_ := set $data "LIVEDESK_CONVERSATIONS__ATTACHMENTS_URL" $values.attachments.url }}
{{- else }}
{{- $_ := set $data "LIVEDESK_CONVERSATIONS__ATTACHMENTS_DIR" "/var/lib/livedesk/attachments" }}
{{- end }}
{{- end }}
{{- if eq $svc "notifications" }}
{{- with $root.Values.smtp.from }}
{{- $_ := set $data "LIVEDESK_NOTIFICATIONS__SMTP_FROM" . }}
{{- end }}
{{- with $root.Values.smtp.messageIdDomain }}
{{- $_ := set $data "LIVEDESK_NOTIFICATIONS__SMTP_MESSAGE_ID_DOMAIN" . }}
{{- end }}
{{- end }}
{{- range $k, $v := $values.config }}
{{- $_ := set $data (printf "LIVEDESK_%s__%s" $S $k) (toString $v) }}
{{- end }}
{{- $_ := set $data "LIVEDESK_SUBJECT_PREFIX" $root.Values.nats.subjectPrefix }}
{{- $_ := set $data "LIVEDESK_NATS_STREAM_REPLICAS" (toString $root.Values.nats.streamReplicas) }}
{{- if $root.Values.bundled.nats.enabled }}
{{- $_ := set $data "LIVEDESK_NATS_URL" (printf "nats://%s-nats:4222" $fullname) }}
{{- else if $root.Values.nats.url }}
{{- $_ := set $data "LIVEDESK_NATS_URL" $root.Values.nats.url }}
{{- end }}
{{- $_ := set $data "LIVEDESK_AUTH_ISSUER" $root.Values.auth.issuer }}
{{- $_ := set $data "LIVEDESK_AUTH_AUDIENCE" $root.Values.auth.audience }}
{{- with $root.Values.auth.signingKeyId }}
{{- $_ := set $data "LIVEDESK_AUTH_SIGNING_KEY_ID" . }}
{{- end }}
{{- range $k, $key := (include "livedesk.authFileKeys" $root | fromYaml) }}
{{- $_ := set $data $k (printf "/etc/livedesk/auth/%s" $key) }}
{{- end }}
{{- $_ := set $data "LIVEDESK_DB_MAX_CONNECTIONS" (toString $root.Values.database.maxConnections) }}
{{- $_ := set $data "LIVEDESK_SHUTDOWN_GRACE_SECONDS" (toString $root.Values.shutdownGraceSeconds) }}
{{- $_ := set $data "LIVEDESK_PEER_DNS_REFRESH_SECONDS" (toString $root.Values.peerDnsRefreshSeconds) }}
{{- $_ := set $data "LIVEDESK_LOG_FORMAT" $root.Values.logFormat }}
{{- toYaml $data }}
{{- end }}

{{/*
Secret-backed environment of a service (database URL, HS256 secret, NATS
URL) plus the user's extra variables.
*/}}
{{- define "livedesk.secretEnv" -}}
{{- $root := .root }}
{{- $svc := .service }}
{{- $S := include "livedesk.upper" $svc }}
{{- $values := index $root.Values.services $svc }}
{{- if $root.Values.bundled.postgresql.enabled }}
- name: BUNDLED_POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.bundled.postgresql.existingSecret }}
      key: {{ $root.Values.bundled.postgresql.passwordKey }}
- name: LIVEDESK_{{ $S }}__DATABASE_URL
  value: {{ printf "postgres://postgres:$(BUNDLED_POSTGRES_PASSWORD)@%s-postgresql:5432/livedesk_%s" (include "livedesk.fullname" $root) $svc | quote }}
{{- else }}
- name: LIVEDESK_{{ $S }}__DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.database.existingSecret }}
      key: {{ $values.databaseUrlKey | default (printf "%s-database-url" $svc) }}
{{- end }}
{{- if $root.Values.auth.keys.hs256Secret }}
- name: LIVEDESK_AUTH_HS256_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.auth.existingSecret }}
      key: {{ $root.Values.auth.keys.hs256Secret }}
{{- end }}
{{- if and (not $root.Values.bundled.nats.enabled) (not $root.Values.nats.url) }}
- name: LIVEDESK_NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.nats.existingSecret }}
      key: {{ $root.Values.nats.urlKey }}
{{- end }}
{{- if eq $svc "notifications" }}
{{- /* In the pod's env, not the ConfigMap (whose *_URL keys are peers).
Empty when unset: the service then refuses to start (fail closed). */}}
- name: LIVEDESK_NOTIFICATIONS__SMTP_URL
  value: {{ $root.Values.smtp.url | quote }}
{{- end }}
{{- if and (eq $svc "notifications") $root.Values.smtp.existingSecret }}
- name: LIVEDESK_NOTIFICATIONS__SMTP_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.smtp.existingSecret }}
      key: {{ $root.Values.smtp.usernameKey }}
- name: LIVEDESK_NOTIFICATIONS__SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.smtp.existingSecret }}
      key: {{ $root.Values.smtp.passwordKey }}
{{- end }}
{{- with $root.Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with $values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Volumes every service pod mounts: a writable /tmp, the auth files,
conversations' attachments (not in the migration Job, which never touches
them: a ReadWriteOnce claim would otherwise tie the Job to the pods' node).
*/}}
{{- define "livedesk.volumes" -}}
{{- $root := .root }}
{{- $files := include "livedesk.authFileKeys" $root | fromYaml }}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if $files }}
- name: auth
  secret:
    secretName: {{ $root.Values.auth.existingSecret }}
    defaultMode: 0440
    items:
    {{- range $k, $key := $files }}
    - key: {{ $key }}
      path: {{ $key }}
    {{- end }}
{{- end }}
{{- if and (eq .service "conversations") (not .job) }}
{{- $a := $root.Values.services.conversations.attachments }}
{{- if not $a.url }}
- name: attachments
  {{- if $a.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ $a.existingClaim }}
  {{- else }}
  emptyDir:
    sizeLimit: {{ $a.sizeLimit }}
  {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- define "livedesk.volumeMounts" -}}
{{- $root := .root }}
- name: tmp
  mountPath: /tmp
{{- if (include "livedesk.authFileKeys" $root | fromYaml) }}
- name: auth
  mountPath: /etc/livedesk/auth
  readOnly: true
{{- end }}
{{- if and (eq .service "conversations") (not .job) (not $root.Values.services.conversations.attachments.url) }}
- name: attachments
  mountPath: /var/lib/livedesk/attachments
{{- end }}
{{- end }}

{{- define "livedesk.podSecurity" -}}
{{- if .Values.serviceAccountName }}
serviceAccountName: {{ .Values.serviceAccountName }}
{{- end }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Egress every pod touching a database needs: DNS and PostgreSQL.
*/}}
{{- define "livedesk.netpol.storageEgress" -}}
{{- $root := .root }}
{{- $np := $root.Values.networkPolicy }}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
  to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ $np.egress.dns.namespace }}
      podSelector:
        matchLabels:
          {{- toYaml $np.egress.dns.podLabels | nindent 10 }}
- ports:
    - port: {{ $np.egress.postgresql.port }}
      protocol: TCP
  {{- if $root.Values.bundled.postgresql.enabled }}
  to:
    - podSelector:
        matchLabels:
          {{- include "livedesk.selectorLabels" (dict "root" $root "component" "postgresql") | nindent 10 }}
  {{- else if $np.egress.postgresql.to }}
  to:
    {{- toYaml $np.egress.postgresql.to | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
The bundled NATS server's configuration.
*/}}
{{- define "livedesk.natsConfig" -}}
port: 4222
http_port: 8222
jetstream {
  store_dir: /data
  sync_interval: always
}
{{- end }}
