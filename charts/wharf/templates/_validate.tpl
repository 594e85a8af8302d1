{{/*
Checks what values.schema.json cannot express (relations between values) and fails once, listing
every problem found. Included at the top of the Deployment, so every render runs it.
*/}}
{{- define "wharf.validateValues" -}}
{{- $problems := list }}
{{- $v := .Values }}

{{- /* Shutdown: the grace period must cover preStop + shutdown-delay + drain. */}}
{{- $min := int (include "wharf.minGracePeriod" .) }}
{{- if lt (int $v.terminationGracePeriodSeconds) $min }}
{{- $problems = append $problems (printf "terminationGracePeriodSeconds: %d (expected: >= %d = lifecycle.preStopSleepSeconds %d + config.shutdownDelaySeconds %d + the longest drain timeout %s + 5 to exit)" (int $v.terminationGracePeriodSeconds) $min (int $v.lifecycle.preStopSleepSeconds) (int $v.config.shutdownDelaySeconds) (include "wharf.maxDrainSeconds" .)) }}
{{- end }}

{{- /* Protocol listeners: the section of their protocol, complete, and none of another protocol's. An http
       section is optional (config.defaults.http and Wharf's defaults cover it); kafka and redisCluster are not. */}}
{{- $lbListeners := ternary $v.loadBalancer.listeners (list) $v.loadBalancer.enabled }}
{{- $sections := dict "kafka" "kafka" "redisCluster" "redis-cluster" "http" "http" }}
{{- $httpSections := list (dict "path" "config.defaults.http" "http" ($v.config.defaults.http | default dict)) }}
{{- range $name, $l := $v.listeners }}
{{- $protocol := default "tcp" $l.protocol }}
{{- $path := printf "listeners.%s" $name }}
{{- range $key, $owner := $sections }}
{{- if and (hasKey $l $key) (ne $protocol $owner) (not (kindIs "invalid" (get $l $key))) }}
{{- $problems = append $problems (printf "%s.%s: set, but only protocol %s reads it (expected: protocol: %s, or no %s; this listener's protocol is %s)" $path $key $owner $owner $key $protocol) }}
{{- end }}
{{- end }}
{{- if and (eq $protocol "http") (kindIs "map" $l.http) }}
{{- $httpSections = append $httpSections (dict "path" (printf "%s.http" $path) "http" $l.http) }}
{{- end }}
{{- $section := ternary $l.kafka $l.redisCluster (eq $protocol "kafka") }}
{{- $sectionKey := ternary "kafka" "redisCluster" (eq $protocol "kafka") }}
{{- $rewrites := has $protocol (list "kafka" "redis-cluster") }}
{{- if and $rewrites (not (kindIs "map" $section)) }}
{{- $example := ternary "{brokerPortBase: 19100, brokerIds: [1, 2, 3]}" "{nodePorts: {\"172.19.0.60:6379\": 16380, ...}}" (eq $protocol "kafka") }}
{{- $problems = append $problems (printf "%s.%s: missing (expected, with protocol %s: %s)" $path $sectionKey $protocol $example) }}
{{- else if $rewrites }}
{{- if and (has $name $lbListeners) (not $section.advertisedHost) }}
{{- $problems = append $problems (printf "%s.%s.advertisedHost: empty, so clients are told %s, which callers of the LoadBalancer (loadBalancer.listeners has %s) cannot resolve (expected: a DNS name that resolves to the load balancer, off the cluster and in it)" $path $sectionKey (include "wharf.advertisedHost" (dict "root" $ "section" $section)) $name) }}
{{- end }}
{{- if eq $protocol "kafka" }}
{{- $maxNodeId := int (include "wharf.kafkaMaxNodeId" $section) }}
{{- if not (hasKey $section "brokerPortBase") }}
{{- $problems = append $problems (printf "%s.kafka.brokerPortBase: missing (expected: 1-65535; broker N gets port brokerPortBase + N)" $path) }}
{{- else if gt (add (int $section.brokerPortBase) $maxNodeId) 65535 }}
{{- $problems = append $problems (printf "%s.kafka.brokerPortBase: %d + maxNodeId %d = %d (expected: <= 65535; Wharf reserves a port for every node id up to maxNodeId)" $path (int $section.brokerPortBase) $maxNodeId (add (int $section.brokerPortBase) $maxNodeId)) }}
{{- end }}
{{- if not $section.brokerIds }}
{{- $problems = append $problems (printf "%s.kafka.brokerIds: empty (expected: the node id of every broker, such as [1, 2, 3]: the Services and the pods expose brokerPortBase + id for each)" $path) }}
{{- end }}
{{- range $i, $id := $section.brokerIds | default list }}
{{- if gt (int $id) $maxNodeId }}
{{- $problems = append $problems (printf "%s.kafka.brokerIds[%d]: %d (expected: <= maxNodeId %d; Wharf leaves a broker with a higher id at its own address, which clients cannot reach)" $path $i (int $id) $maxNodeId) }}
{{- end }}
{{- end }}
{{- if hasKey $section "maxFrameSize" }}
{{- with include "wharf.sizeProblem" (dict "size" $section.maxFrameSize) }}
{{- $problems = append $problems (printf "%s.kafka.maxFrameSize: %s" $path .) }}
{{- end }}
{{- end }}
{{- else }}
{{- if and (not $section.nodePorts) (not $section.dynamicPorts) }}
{{- $problems = append $problems (printf "%s.redisCluster.nodePorts: empty (expected: every node as the cluster reports it, to its proxy port, such as {\"172.19.0.60:6379\": 16380})" $path) }}
{{- end }}
{{- with $section.dynamicPorts }}
{{- if not (include "wharf.portRange" . | fromJson) }}
{{- $problems = append $problems (printf "%s.redisCluster.dynamicPorts: %q (expected: first-last with 1 <= first <= last <= 65535, such as \"17000-17009\")" $path .) }}
{{- else if ne (int $v.replicaCount) 1 }}
{{- $problems = append $problems (printf "%s.redisCluster.dynamicPorts: %q with replicaCount %d (expected: no dynamicPorts, or replicaCount 1: each replica gives out dynamic ports in the order it meets nodes, so through the Service a client would reach another replica where its port means another node or none; list every node in nodePorts instead)" $path . (int $v.replicaCount)) }}
{{- end }}
{{- end }}
{{- if hasKey $section "maxReplySize" }}
{{- with include "wharf.sizeProblem" (dict "size" $section.maxReplySize) }}
{{- $problems = append $problems (printf "%s.redisCluster.maxReplySize: %s" $path .) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- /* http sections: Wharf holds a request line and a header block to 1 KiB to 1 MiB. */}}
{{- range $httpSections }}
{{- $section := . }}
{{- range $key := list "maxInitialLine" "maxHeaderSize" }}
{{- if hasKey $section.http $key }}
{{- with include "wharf.sizeProblem" (dict "size" (get $section.http $key) "max" "1MiB" "example" "16KiB") }}
{{- $problems = append $problems (printf "%s.%s: %s" $section.path $key .) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- /* Ports: one owner each, and not the admin port. Every listener's own port first, then the broker and
       node ports, so that a clash is reported on the extra port. A kafka listener claims every port from
       brokerPortBase to brokerPortBase + maxNodeId: Wharf reserves them all, exposed or not. */}}
{{- $state := dict "claims" (list) "problems" $problems }}
{{- $_ := include "wharf.claimPorts" (dict "state" $state "first" (int $v.admin.port) "path" "admin.port") }}
{{- range $name, $l := $v.listeners }}
{{- $_ := include "wharf.claimPorts" (dict "state" $state "first" (int $l.port) "path" (printf "listeners.%s.port" $name)) }}
{{- end }}
{{- range $name, $l := $v.listeners }}
{{- $protocol := default "tcp" $l.protocol }}
{{- if and (eq $protocol "kafka") (kindIs "map" $l.kafka) (hasKey $l.kafka "brokerPortBase") }}
{{- $base := int $l.kafka.brokerPortBase }}
{{- $last := min 65535 (add $base (int (include "wharf.kafkaMaxNodeId" $l.kafka))) }}
{{- $_ := include "wharf.claimPorts" (dict "state" $state "first" $base "last" $last "path" (printf "listeners.%s.kafka.brokerPortBase" $name) "what" (printf "the broker ports %d-%d (brokerPortBase + 0 to maxNodeId)" $base $last)) }}
{{- else if and (eq $protocol "redis-cluster") (kindIs "map" $l.redisCluster) }}
{{- range $node, $port := $l.redisCluster.nodePorts | default dict }}
{{- $_ := include "wharf.claimPorts" (dict "state" $state "first" (int $port) "path" (printf "listeners.%s.redisCluster.nodePorts[%q]" $name $node)) }}
{{- end }}
{{- with (include "wharf.portRange" $l.redisCluster.dynamicPorts | fromJson) }}
{{- $_ := include "wharf.claimPorts" (dict "state" $state "first" (int .first) "last" (int .last) "path" (printf "listeners.%s.redisCluster.dynamicPorts" $name) "what" (printf "the dynamic ports %d-%d" (int .first) (int .last))) }}
{{- end }}
{{- end }}
{{- end }}
{{- $problems = $state.problems }}

{{- /* Service port names: a listener's name and the names of the broker and node ports (kafka-19101) meet
       in the same Services, and so does admin. */}}
{{- $portNames := dict }}
{{- range $name, $l := $v.listeners }}
{{- if eq $name "admin" }}
{{- $problems = append $problems "listeners.admin: the name of the admin port in the Service (expected: another listener name)" }}
{{- end }}
{{- range (include "wharf.protocolPorts" (dict "listener" $l) | fromJson).ports }}
{{- if and (hasKey $v.listeners .name) (not (hasKey $portNames .name)) }}
{{- $_ := set $portNames .name true }}
{{- $problems = append $problems (printf "listeners.%s: also the Service port name of %s of listeners.%s (port %d) (expected: another listener name)" .name .what $name (int .port)) }}
{{- end }}
{{- end }}
{{- end }}

{{- /* Alias Services must point at listeners that exist. */}}
{{- if $v.externalServices.enabled }}
{{- range $alias, $listener := $v.externalServices.services }}
{{- if not (hasKey $v.listeners $listener) }}
{{- $problems = append $problems (printf "externalServices.services.%s: listener %q does not exist (expected one of: %s)" $alias $listener (keys $v.listeners | sortAlpha | join ", ")) }}
{{- end }}
{{- end }}
{{- end }}

{{- /* The LoadBalancer: restricted sources, existing listeners, and someone to trust for PROXY headers. */}}
{{- if $v.loadBalancer.enabled }}
{{- if not $v.loadBalancer.sourceRanges }}
{{- $problems = append $problems "loadBalancer.sourceRanges: empty (expected: at least one CIDR block when loadBalancer.enabled; a LoadBalancer open to the whole internet is not a default)" }}
{{- end }}
{{- if not $v.loadBalancer.listeners }}
{{- $problems = append $problems "loadBalancer.listeners: empty (expected: at least one listener when loadBalancer.enabled)" }}
{{- end }}
{{- range $i, $listener := $v.loadBalancer.listeners }}
{{- if not (hasKey $v.listeners $listener) }}
{{- $problems = append $problems (printf "loadBalancer.listeners[%d]: listener %q does not exist (expected one of: %s)" $i $listener (keys $v.listeners | sortAlpha | join ", ")) }}
{{- end }}
{{- end }}
{{- if and $v.loadBalancer.proxyProtocol (not $v.loadBalancer.trustedProxies) }}
{{- $problems = append $problems "loadBalancer.trustedProxies: empty (expected: the load balancer's addresses or the node CIDRs when loadBalancer.proxyProtocol is on; Wharf ignores PROXY headers from anyone else)" }}
{{- end }}
{{- end }}

{{- /* Secret mounts: a clean directory of their own each, not on the chart's own mounts. */}}
{{- $secretDirs := list }}
{{- $mounts := dict "/etc/wharf" "the config volume" "/etc/wharf/wharf.conf" "the base config file" "/tmp" "the tmp volume" }}
{{- range $i, $secret := $v.secretMounts }}
{{- $path := $secret.mountPath }}
{{- if ne $path (clean $path) }}
{{- $problems = append $problems (printf "secretMounts[%d].mountPath: %q (expected: an absolute path without . or .. segments)" $i $path) }}
{{- else if hasPrefix "/etc/wharf/" $path }}
{{- $problems = append $problems (printf "secretMounts[%d].mountPath: %s is inside the read-only config volume (expected: a directory of its own, such as /etc/wharf-secrets/pg)" $i $path) }}
{{- else if hasKey $mounts $path }}
{{- $problems = append $problems (printf "secretMounts[%d].mountPath: %s is already used by %s (expected: a directory of its own, such as /etc/wharf-secrets/pg)" $i $path (get $mounts $path)) }}
{{- else }}
{{- $_ := set $mounts $path (printf "secretMounts[%d]" $i) }}
{{- $secretDirs = append $secretDirs $path }}
{{- end }}
{{- end }}

{{- /* Files read from Secrets: an http section's authorization file and a health check's password file must
       be keys of a mounted Secret. A postgres check needs a user, set here or inherited from config.defaults. */}}
{{- $defaultCheck := $v.config.defaults.healthCheck | default dict }}
{{- $checks := list (dict "path" "config.defaults.healthCheck" "check" $defaultCheck "own" true "userHint" "") }}
{{- range $name, $l := $v.listeners }}
{{- with $l.upstream.healthCheck }}
{{- $checks = append $checks (dict "path" (printf "listeners.%s.upstream.healthCheck" $name) "check" . "own" (or (hasKey . "type") (hasKey . "user")) "userHint" ", here or in config.defaults.healthCheck.user") }}
{{- end }}
{{- end }}
{{- range $httpSections }}
{{- with include "wharf.secretFileProblem" (dict "path" (printf "%s.authorizationFile" .path) "file" .http.authorizationFile "secretDirs" $secretDirs) }}
{{- $problems = append $problems . }}
{{- end }}
{{- end }}
{{- range $checks }}
{{- with include "wharf.secretFileProblem" (dict "path" (printf "%s.passwordFile" .path) "file" .check.passwordFile "secretDirs" $secretDirs) }}
{{- $problems = append $problems . }}
{{- end }}
{{- $type := ternary .check.type ($defaultCheck.type | default "none") (hasKey .check "type") }}
{{- $user := ternary .check.user ($defaultCheck.user | default "") (hasKey .check "user") }}
{{- if and .own (eq $type "postgres") (not $user) }}
{{- $problems = append $problems (printf "%s.user: empty, but a postgres check logs in (expected: a user name such as \"postgres\"%s)" .path .userHint) }}
{{- end }}
{{- end }}

{{- if $problems }}
{{- fail (printf "\n%d problem(s) in the values:\n  - %s" (len $problems) (join "\n  - " $problems)) }}
{{- end }}
{{- end }}

{{/*
Claims ports first to last (last defaults to first) for path, on .state {claims, problems}: each earlier
claim holding one of them is a problem, reported here, on the later claim.
*/}}
{{- define "wharf.claimPorts" -}}
{{- $claim := dict "first" (int .first) "last" (int (.last | default .first)) "path" .path "what" (.what | default "") }}
{{- range .state.claims }}
{{- if le (max $claim.first .first) (min $claim.last .last) }}
{{- $owner := ternary (printf "%s of %s" .what .path) .path (ne .what "") }}
{{- $problem := printf "%s: %d is already used by %s (expected: a port of its own)" $claim.path $claim.first $owner }}
{{- if ne $claim.first $claim.last }}
{{- $problem = printf "%s: %s include %d, already used by %s (expected: ports of their own)" $claim.path $claim.what (max $claim.first .first) $owner }}
{{- end }}
{{- $_ := set $.state "problems" (append $.state.problems $problem) }}
{{- end }}
{{- end }}
{{- $_ := set .state "claims" (append .state.claims $claim) }}
{{- end }}

{{/*
Why a size with a unit ("16MiB") is outside Wharf's 1 KiB to .max (a size with a unit too, "1GiB" unless
given), or "" when it is inside. The schema holds a size given as a number of bytes to that range, and a
string to the units counted here. Takes {size, max, example}.
*/}}
{{- define "wharf.sizeProblem" -}}
{{- if kindIs "string" .size }}
{{- $max := .max | default "1GiB" }}
{{- $bytes := include "wharf.sizeBytes" .size | atoi }}
{{- if or (lt $bytes 1024) (gt $bytes (include "wharf.sizeBytes" $max | atoi)) }}
{{- printf "%q is %d bytes (expected: 1 KiB to %s, such as %q)" .size $bytes (regexReplaceAll "([0-9])([A-Za-z])" $max "${1} ${2}") (.example | default "16MiB") }}
{{- end }}
{{- end }}
{{- end }}

{{/* The bytes of a size with a unit, such as "16MiB"; 0 for an unknown unit (the schema allows none). */}}
{{- define "wharf.sizeBytes" -}}
{{- $units := dict "B" 1 "kB" 1000 "KiB" 1024 "MB" 1000000 "MiB" 1048576 "GB" 1000000000 "GiB" 1073741824 }}
{{- $number := regexFind "^[0-9]+" . }}
{{- mul (atoi $number) (get $units (trimPrefix $number .) | default 0) }}
{{- end }}

{{/*
Why a file that Wharf reads from a mounted Secret (a health check's passwordFile, an http section's
authorizationFile) is not one, or "" when it is: Wharf refuses a config naming a file it cannot read.
Takes {path (the value's path), file, secretDirs (the mountPaths)}.
*/}}
{{- define "wharf.secretFileProblem" -}}
{{- $file := .file | default "" }}
{{- if and $file (or (ne $file (clean $file)) (not (has (dir $file) .secretDirs))) }}
{{- $expected := ternary "no Secret is mounted" (printf "mounted at: %s" (join ", " .secretDirs)) (empty .secretDirs) }}
{{- printf "%s: %q is not a key of a mounted Secret (expected: <mountPath>/<key> of a secretMounts entry; %s)" .path $file $expected }}
{{- end }}
{{- end }}
