package dev.wharf.upstream;

import dev.wharf.config.Endpoint;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One endpoint as the relay sees it: its resolved address, live sessions and health. The same
 * object survives config reloads that keep the endpoint, so counts stay true across them.
 */
public final class EndpointState {
    private final Endpoint endpoint;
    private final AtomicInteger active = new AtomicInteger();
    private volatile InetSocketAddress resolved;
    private volatile boolean healthy = true;
    AutoCloseable healthGauge;

    EndpointState(Endpoint endpoint) {
        this.endpoint = endpoint;
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    /** Resolves the host; called off the event loops because a DNS lookup blocks. */
    void resolve() {
        try {
            resolved = new InetSocketAddress(InetAddress.getByName(endpoint.host()), endpoint.port());
        } catch (UnknownHostException e) {
            resolved = null;
        }
    }

    /** The address to connect to, or null while the name does not resolve. */
    public InetSocketAddress resolved() {
        return resolved;
    }

    public boolean healthy() {
        return healthy;
    }

    void healthy(boolean healthy) {
        this.healthy = healthy;
    }

    public int active() {
        return active.get();
    }

    public void sessionOpened() {
        active.incrementAndGet();
    }

    public void sessionClosed() {
        active.decrementAndGet();
    }

    /** The endpoint left the upstream table: stop exporting its health. */
    void retire() {
        try {
            healthGauge.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot unregister the health gauge of " + endpoint, e);
        }
    }

    @Override
    public String toString() {
        return endpoint.address();
    }
}
