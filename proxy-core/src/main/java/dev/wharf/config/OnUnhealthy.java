package dev.wharf.config;

/** What happens to live sessions on an endpoint that a health check marks down. */
public enum OnUnhealthy implements ConfigChoice {
    /** They go on: the endpoint only stops getting new sessions. */
    KEEP,
    /** They are closed at once, like HAProxy's on-marked-down shutdown-sessions. */
    CLOSE_SESSIONS
}
