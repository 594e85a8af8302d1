package dev.wharf.relay;

import java.net.InetSocketAddress;

/**
 * A live client connection of a listener, whatever relays it: a TCP {@link Session} or an HTTP
 * front-end. The listener holds them to close them on drain, shutdown and revoked access.
 */
public interface ListenerSession {
    /** The client's address: the peer's own, or the one a trusted proxy's PROXY header named. */
    InetSocketAddress source();

    /** Ends the session from any thread. */
    void close(CloseReason why);

    /**
     * Its listener is going away (a reload removed it, or shutdown): finish what is in progress and
     * take nothing new, from any thread. A byte session cannot tell where its protocol's exchanges
     * end, so by default it runs on until it ends or the drain timeout closes it.
     */
    default void drain() {
    }
}
