package dev.wharf.relay;

/** Why a session ended, as the access log and its readers name it. */
public enum CloseReason {
    CLIENT_CLOSED,
    UPSTREAM_CLOSED,
    CLIENT_ERROR,
    UPSTREAM_ERROR,
    UPSTREAM_UNAVAILABLE,
    /** A health check marked the session's endpoint down, with on-unhealthy = close-sessions. */
    UPSTREAM_UNHEALTHY,
    /** Bytes that break the listener's protocol (a malformed frame), from either side. */
    PROTOCOL_ERROR,
    IDLE_TIMEOUT,
    ACCESS_REVOKED,
    DRAIN_TIMEOUT,
    /** The listener was draining and the connection had nothing in progress (an idle HTTP keep-alive). */
    DRAINED,
    SHUTDOWN;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
