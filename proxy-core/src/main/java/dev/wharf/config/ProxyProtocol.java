package dev.wharf.config;

/** Whether a listener expects a PROXY protocol header (v1 or v2) in front of each connection. */
public enum ProxyProtocol implements ConfigChoice {
    /** Nothing is parsed: the peer's address is the source. */
    OFF,
    /** A trusted proxy may send a header; a connection without one is its own source. */
    OPTIONAL,
    /** Every connection must come from a trusted proxy and start with a valid header. */
    REQUIRED
}
