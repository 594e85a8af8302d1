package dev.wharf.k8s;

/**
 * One piece of HOCON that goes into the merged config: the base {@code --config} file, or one
 * {@code *.conf} key of a ConfigMap.
 *
 * @param origin where it came from, as shown to users ({@code default/redis-routes:redis.conf})
 * @param text the HOCON, relative to {@code wharf} (or wrapped in a single {@code wharf { }})
 * @param owner the ConfigMap it came from; null for the base file
 */
public record Fragment(String origin, String text, ConfigMapRef owner) {
    public static Fragment ofFile(String file, String text) {
        return new Fragment(file, text, null);
    }

    public static Fragment ofConfigMap(ConfigMapRef owner, String key, String text) {
        return new Fragment(owner.namespace() + "/" + owner.name() + ":" + key, text, owner);
    }

    /** What decides whether two updates are the same: origin and text, not resource versions. */
    String identity() {
        return origin + "\u0000" + text;
    }

    /**
     * A ConfigMap as an Event's {@code involvedObject} names it.
     */
    public record ConfigMapRef(String namespace, String name, String uid, String resourceVersion) {
    }
}
