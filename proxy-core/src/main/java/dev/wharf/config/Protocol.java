package dev.wharf.config;

/** What a listener understands of the bytes it relays. */
public enum Protocol {
    TCP("tcp");

    private final String configName;

    Protocol(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }
}
