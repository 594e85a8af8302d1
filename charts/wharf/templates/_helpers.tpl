{{/* The chart name, truncated to a DNS label. */}}
{{- define "wharf.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every resource name: the release name, plus the chart name unless it already holds it. */}}
{{- define "wharf.fullname" -}}
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

{{/* A name derived from the full name with a suffix, still a DNS label. */}}
{{- define "wharf.suffixedName" -}}
{{- $base := include "wharf.fullname" .root | trunc (int (sub 62 (len .suffix))) | trimSuffix "-" }}
{{- printf "%s-%s" $base .suffix }}
{{- end }}

{{- define "wharf.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "wharf.labels" -}}
helm.sh/chart: {{ include "wharf.chart" . }}
{{ include "wharf.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The labels Services, the PDB, the NetworkPolicy and topology spread select Wharf's pods by. */}}
{{- define "wharf.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wharf.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "wharf.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "wharf.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "wharf.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The longest drain timeout, in seconds: the defaults' and every listener's own. */}}
{{- define "wharf.maxDrainSeconds" -}}
{{- $max := int .Values.config.defaults.drainTimeoutSeconds }}
{{- range $name, $l := .Values.listeners }}
{{- if and (kindIs "map" $l) (hasKey $l "drainTimeoutSeconds") }}
{{- $max = max $max (int $l.drainTimeoutSeconds) }}
{{- end }}
{{- end }}
{{- $max }}
{{- end }}

{{/* The least terminationGracePeriodSeconds that lets a pod finish its shutdown. */}}
{{- define "wharf.minGracePeriod" -}}
{{- add (int .Values.lifecycle.preStopSleepSeconds) (int .Values.config.shutdownDelaySeconds) (int (include "wharf.maxDrainSeconds" .)) 5 }}
{{- end }}

{{/*
The health keys of an upstream (a listener's, or config.defaults) as HOCON lines: only those the
user set, so that Wharf's reference.conf decides the rest and a listener inherits from
wharf.defaults key by key. hasKey, not with: 0 and "" are values too (port 0, passwordFile "").
*/}}
{{- define "wharf.upstreamHealth" -}}
{{- $check := .healthCheck | default dict }}
{{- if $check }}
health-check {
{{- range $key := list "type" "interval" "downInterval" "timeout" "rise" "fall" "jitter" "port" "method" "path" "expectStatus" "expectBody" "role" "user" "database" "passwordFile" }}
{{- if hasKey $check $key }}
{{- $value := get $check $key }}
  {{ kebabcase $key }} = {{ if has $key (list "rise" "fall" "port") }}{{ int $value }}
  {{- else if kindIs "slice" $value }}[{{ range $i, $code := $value }}{{ if $i }}, {{ end }}{{ int $code }}{{ end }}]
  {{- else if eq $key "expectStatus" }}{{ int $value }}
  {{- else }}{{ $value | toJson }}{{ end }}
{{- end }}
{{- end }}
}
{{- end }}
{{- with .onUnhealthy }}
on-unhealthy = {{ . | toJson }}
{{- end }}
{{- if hasKey . "ejectAfter" }}
eject-after = {{ int .ejectAfter }}
{{- end }}
{{- with .ejectFor }}
eject-for = {{ . | toJson }}
{{- end }}
{{- with .resolveInterval }}
resolve-interval = {{ . | toJson }}
{{- end }}
{{- end }}

{{/*
The host a kafka or redis-cluster listener tells clients for every broker or node: its own
advertisedHost, else the DNS name of the chart's ClusterIP Service. That name reaches any replica,
which is why a broker's or node's port must be the same on every replica.
*/}}
{{- define "wharf.advertisedHost" -}}
{{- .section.advertisedHost | default (printf "%s.%s.svc" (include "wharf.fullname" .root) .root.Release.Namespace) }}
{{- end }}

{{/*
The highest Kafka node id Wharf gives a port when a listener sets no maxNodeId: reference.conf's
wharf.defaults.kafka.max-node-id (ChartProtocolListenersTest keeps the two equal). Wharf reserves every port
from brokerPortBase to brokerPortBase + maxNodeId, exposed or not.
*/}}
{{- define "wharf.kafkaMaxNodeId" -}}
{{- if hasKey . "maxNodeId" }}{{ int .maxNodeId }}{{ else }}99{{ end }}
{{- end }}

{{/*
The ports of a kafka or redis-cluster listener beyond its own, which clients connect to directly
after the protocol told them about them: brokerPortBase + id for each of kafka.brokerIds, each of
redisCluster.nodePorts and every port of redisCluster.dynamicPorts. As JSON {"ports": [{name,
port, what}]}; empty for tcp and where the values are incomplete (validateValues reports that).
A name is the protocol and the port ("kafka-19101", "redis-16380"): always a valid port name of at
most 15 characters, and unique because no port may be used twice.
*/}}
{{- define "wharf.protocolPorts" -}}
{{- $l := .listener }}
{{- $protocol := default "tcp" $l.protocol }}
{{- $ports := list }}
{{- if and (eq $protocol "kafka") (kindIs "map" $l.kafka) }}
{{- if hasKey $l.kafka "brokerPortBase" }}
{{- range $id := $l.kafka.brokerIds | default list }}
{{- $port := add (int $l.kafka.brokerPortBase) (int $id) }}
{{- $ports = append $ports (dict "name" (printf "kafka-%d" $port) "port" $port "what" (printf "broker %d" (int $id))) }}
{{- end }}
{{- end }}
{{- else if and (eq $protocol "redis-cluster") (kindIs "map" $l.redisCluster) }}
{{- range $node, $port := $l.redisCluster.nodePorts | default dict }}
{{- $ports = append $ports (dict "name" (printf "redis-%d" (int $port)) "port" (int $port) "what" (printf "node %s" $node)) }}
{{- end }}
{{- with (include "wharf.portRange" $l.redisCluster.dynamicPorts | fromJson) }}
{{- range $port := untilStep (int .first) (int (add .last 1)) 1 }}
{{- $ports = append $ports (dict "name" (printf "redis-%d" $port) "port" $port "what" "dynamic port") }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson (dict "ports" $ports) }}
{{- end }}

{{/* "first-last" as JSON {"first", "last"} when it is a port range (1 <= first <= last <= 65535), else {}. */}}
{{- define "wharf.portRange" -}}
{{- $range := dict }}
{{- if and (kindIs "string" .) (regexMatch "^[0-9]{1,5}-[0-9]{1,5}$" (. | default "")) }}
{{- $bounds := splitList "-" . }}
{{- $first := atoi (index $bounds 0) }}
{{- $last := atoi (index $bounds 1) }}
{{- if and (ge $first 1) (le $first $last) (le $last 65535) }}
{{- $range = dict "first" $first "last" $last }}
{{- end }}
{{- end }}
{{- toJson $range }}
{{- end }}

{{/* A size as HOCON: a number of bytes, or a string with a unit such as "16MiB". */}}
{{- define "wharf.size" -}}
{{- if kindIs "string" . }}{{ . | toJson }}{{ else }}{{ int64 . }}{{ end }}
{{- end }}

{{/*
An http section (a listener's, or config.defaults.http) as HOCON lines under Wharf's keys: only those
the user set, so that a listener inherits wharf.defaults.http key by key and reference.conf decides
the rest. Empty when nothing is set. hasKey, not with: "" and 0 are values too (hostHeader "",
maxIdlePerEndpoint 0).
*/}}
{{- define "wharf.httpSettings" -}}
{{- $http := . | default dict }}
{{- $keys := list "hostHeader" "retryMethods" "authorizationFile" "responseTimeout" "maxInitialLine" "maxHeaderSize" "maxHeaders" "poolIdleTimeout" "maxIdlePerEndpoint" }}
{{- $set := list }}
{{- range $key := $keys }}{{ if hasKey $http $key }}{{ $set = append $set $key }}{{ end }}{{ end }}
{{- if $set }}
http {
{{- range $key := $set }}
{{- $value := get $http $key }}
  {{ kebabcase $key }} = {{ if has $key (list "maxInitialLine" "maxHeaderSize") }}{{ include "wharf.size" $value }}
  {{- else if has $key (list "maxHeaders" "maxIdlePerEndpoint") }}{{ int $value }}
  {{- else }}{{ $value | toJson }}{{ end }}
{{- end }}
}
{{- end }}
{{- end }}

{{/*
The base config (wharf.admin, runtime, shutdown-delay, defaults) as HOCON. Strings are written as
JSON strings, which HOCON reads as quoted strings.
*/}}
{{- define "wharf.baseConfig" -}}
{{- $c := .Values.config -}}
# Rendered by the Helm chart from .Values.config and .Values.admin.
wharf {
  admin { host = "0.0.0.0", port = {{ int .Values.admin.port }} }
  runtime { transport = {{ $c.runtime.transport | toJson }}, event-loops = {{ int $c.runtime.eventLoops }} }
  shutdown-delay = {{ int $c.shutdownDelaySeconds }}s
  defaults {
    connect-timeout = {{ $c.defaults.connectTimeout | toJson }}
    idle-timeout = {{ $c.defaults.idleTimeout | toJson }}
    drain-timeout = {{ int $c.defaults.drainTimeoutSeconds }}s
    max-connections = {{ int $c.defaults.maxConnections }}
    max-connections-per-source = {{ int $c.defaults.maxConnectionsPerSource }}
    allow = {{ $c.defaults.allow | toJson }}
    balance = {{ $c.defaults.balance | toJson }}
    {{- with include "wharf.upstreamHealth" $c.defaults }}
    {{- . | trim | nindent 4 }}
    {{- end }}
    splice = {{ $c.defaults.splice }}
    {{- with include "wharf.httpSettings" $c.defaults.http }}
    {{- . | trim | nindent 4 }}
    {{- end }}
  }
}
{{- end }}

{{/* The listener table, relative to wharf (the form Wharf reads from a watched ConfigMap). */}}
{{- define "wharf.listenersConfig" -}}
{{- $lb := .Values.loadBalancer -}}
# Rendered by the Helm chart from .Values.listeners{{ if and $lb.enabled $lb.proxyProtocol }} and .Values.loadBalancer{{ end }}.
listeners {
{{- range $name, $l := .Values.listeners }}
  {{ $name }} {
    port = {{ int $l.port }}
    {{- with $l.host }}
    host = {{ . | toJson }}
    {{- end }}
    protocol = {{ default "tcp" $l.protocol | toJson }}
    {{- if hasKey $l "allow" }}
    allow = {{ $l.allow | toJson }}
    {{- end }}
    {{- with $l.connectTimeout }}
    connect-timeout = {{ . | toJson }}
    {{- end }}
    {{- with $l.idleTimeout }}
    idle-timeout = {{ . | toJson }}
    {{- end }}
    {{- if hasKey $l "drainTimeoutSeconds" }}
    drain-timeout = {{ int $l.drainTimeoutSeconds }}s
    {{- end }}
    {{- if hasKey $l "maxConnections" }}
    max-connections = {{ int $l.maxConnections }}
    {{- end }}
    {{- if hasKey $l "maxConnectionsPerSource" }}
    max-connections-per-source = {{ int $l.maxConnectionsPerSource }}
    {{- end }}
    {{- if hasKey $l "splice" }}
    splice = {{ $l.splice }}
    {{- end }}
    {{- if and $lb.enabled $lb.proxyProtocol (has $name $lb.listeners) }}
    # Optional, not required: in-cluster callers reach the same port without a PROXY header.
    proxy-protocol = optional
    trusted-proxies = {{ $lb.trustedProxies | toJson }}
    {{- end }}
    {{- with $l.kafka }}
    # brokerIds is the chart's own: Wharf learns the brokers from the cluster; the Services expose those listed.
    kafka {
      advertised-host = {{ include "wharf.advertisedHost" (dict "root" $ "section" .) | toJson }}
      {{- if hasKey . "brokerPortBase" }}
      broker-port-base = {{ int .brokerPortBase }}
      {{- end }}
      {{- if hasKey . "maxNodeId" }}
      max-node-id = {{ int .maxNodeId }}
      {{- end }}
      {{- with .metadataRefresh }}
      metadata-refresh = {{ . | toJson }}
      {{- end }}
      {{- with .releaseAfter }}
      release-after = {{ . | toJson }}
      {{- end }}
      {{- if hasKey . "maxFrameSize" }}
      max-frame-size = {{ include "wharf.size" .maxFrameSize }}
      {{- end }}
    }
    {{- end }}
    {{- with $l.redisCluster }}
    redis-cluster {
      advertised-host = {{ include "wharf.advertisedHost" (dict "root" $ "section" .) | toJson }}
      {{- with .nodePorts }}
      node-ports {
        {{- range $node, $port := . }}
        {{ $node | toJson }} = {{ int $port }}
        {{- end }}
      }
      {{- end }}
      {{- with .dynamicPorts }}
      dynamic-ports = {{ . | toJson }}
      {{- end }}
      {{- with .releaseAfter }}
      release-after = {{ . | toJson }}
      {{- end }}
      {{- if hasKey . "maxReplySize" }}
      max-reply-size = {{ include "wharf.size" .maxReplySize }}
      {{- end }}
    }
    {{- end }}
    {{- with include "wharf.httpSettings" $l.http }}
    {{- . | trim | nindent 4 }}
    {{- end }}
    upstream {
      endpoints = [
      {{- range $i, $e := $l.upstream.endpoints }}
        {{- if $i }},{{ end }}
        {{- if kindIs "map" $e }}
        { address = {{ $e.address | toJson }}{{ with $e.checkPort }}, check-port = {{ int . }}{{ end }} }
        {{- else }}
        {{ $e | toJson }}
        {{- end }}
      {{- end }}
      ]
      {{- with $l.upstream.balance }}
      balance = {{ . | toJson }}
      {{- end }}
      {{- with include "wharf.upstreamHealth" $l.upstream }}
      {{- . | trim | nindent 6 }}
      {{- end }}
    }
  }
{{- end }}
}
{{- end }}
