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

{{- /* Ports: one owner each, and not the admin port. */}}
{{- $owners := dict (toString (int $v.admin.port)) "admin.port" }}
{{- range $name, $l := $v.listeners }}
{{- $key := toString (int $l.port) }}
{{- if hasKey $owners $key }}
{{- $problems = append $problems (printf "listeners.%s.port: %s is already used by %s (expected: a port of its own)" $name $key (get $owners $key)) }}
{{- else }}
{{- $_ := set $owners $key (printf "listeners.%s.port" $name) }}
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

{{- /* Health checks: a password file must be a key of a mounted Secret (Wharf refuses a config naming a file
       it cannot read), and a postgres check needs a user, set here or inherited from config.defaults. */}}
{{- $defaultCheck := $v.config.defaults.healthCheck | default dict }}
{{- $checks := list (dict "path" "config.defaults.healthCheck" "check" $defaultCheck "own" true "userHint" "") }}
{{- range $name, $l := $v.listeners }}
{{- with $l.upstream.healthCheck }}
{{- $checks = append $checks (dict "path" (printf "listeners.%s.upstream.healthCheck" $name) "check" . "own" (or (hasKey . "type") (hasKey . "user")) "userHint" ", here or in config.defaults.healthCheck.user") }}
{{- end }}
{{- end }}
{{- range $checks }}
{{- $file := .check.passwordFile | default "" }}
{{- if and $file (or (ne $file (clean $file)) (not (has (dir $file) $secretDirs))) }}
{{- $expected := ternary "no Secret is mounted" (printf "mounted at: %s" (join ", " $secretDirs)) (empty $secretDirs) }}
{{- $problems = append $problems (printf "%s.passwordFile: %q is not a key of a mounted Secret (expected: <mountPath>/<key> of a secretMounts entry; %s)" .path $file $expected) }}
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
