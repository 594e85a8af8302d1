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
}
