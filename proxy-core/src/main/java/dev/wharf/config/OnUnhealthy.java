package dev.wharf.config;

/** What happens to live sessions on an endpoint that a health check marks down. */
public enum OnUnhealthy {
    /** They go on: the endpoint only stops getting new sessions. */
    KEEP("keep"),
    /** They are closed at once, like HAProxy's on-marked-down shutdown-sessions. */
    CLOSE_SESSIONS("close-sessions");

    private final String configName;

    OnUnhealthy(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }
}
