package dev.wharf.config;

import java.util.List;

/**
 * Where the ConfigMap source looks, read once at start from the {@code --config} file.
 *
 * @param namespaces the namespaces to watch; empty means the pod's own
 */
public record KubernetesConfig(List<String> namespaces) {
    public KubernetesConfig {
        namespaces = List.copyOf(namespaces);
    }
}
