package dev.wharf.config;

/** Whether a listener expects a PROXY protocol header (v1 or v2) in front of each connection. */
public enum ProxyProtocol {
    /** Nothing is parsed: the peer's address is the source. */
    OFF("off"),
    /** A trusted proxy may send a header; a connection without one is its own source. */
    OPTIONAL("optional"),
    /** Every connection must come from a trusted proxy and start with a valid header. */
    REQUIRED("required");

    private final String configName;

    ProxyProtocol(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }
}
