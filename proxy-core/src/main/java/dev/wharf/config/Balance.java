package dev.wharf.config;

/** How a listener picks an upstream endpoint for a new session. */
public enum Balance {
    ROUND_ROBIN("round-robin"),
    LEAST_CONNECTIONS("least-connections"),
    /** The first endpoint, in configured order, that is healthy and connects. */
    FIRST_HEALTHY("first-healthy");

    private final String configName;

    Balance(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }
}
