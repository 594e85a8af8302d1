package dev.wharf.config;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A whole, validated config: what one generation of Wharf serves. Listeners are keyed by name,
 * in name order.
 */
public record WharfConfig(AdminConfig admin, RuntimeConfig runtime, KubernetesConfig kubernetes,
                          Duration shutdownDelay, Map<String, ListenerConfig> listeners) {
    public WharfConfig {
        listeners = Collections.unmodifiableMap(new TreeMap<>(listeners));
    }
}
