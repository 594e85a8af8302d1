package dev.wharf.config;

/** What a listener understands of the bytes it relays. */
public enum Protocol implements ConfigChoice {
    /** Bytes only. */
    TCP,
    /** HTTP/1.1: requests, not connections, are balanced over the endpoints; see {@link HttpSettings}. */
    HTTP,
    /** Kafka: broker addresses in responses become proxy addresses, one proxy port per broker. */
    KAFKA,
    /** Redis Cluster: node addresses in redirects and topology replies become proxy addresses. */
    REDIS_CLUSTER
}
