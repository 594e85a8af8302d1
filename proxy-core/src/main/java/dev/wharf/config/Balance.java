package dev.wharf.config;

/** How a listener picks an upstream endpoint for a new session. */
public enum Balance implements ConfigChoice {
    ROUND_ROBIN,
    LEAST_CONNECTIONS,
    /** The first endpoint, in configured order, that is healthy and connects. */
    FIRST_HEALTHY
}
