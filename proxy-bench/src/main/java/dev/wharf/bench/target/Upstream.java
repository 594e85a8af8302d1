package dev.wharf.bench.target;

/** The servers every target relays to. */
public enum Upstream {
    /** The bench's own Netty server: echo, sink or source, chosen by the client's first byte. */
    ECHO,
    REDIS,
    POSTGRES
}
