package dev.wharf.relay;

import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The idle timeout of one client connection: closes its session with {@code idle_timeout} once no
 * traffic has been seen ({@link #touch}) for the listener's idle-timeout. One timer, re-armed for
 * the time left, rather than one per read. Event loop only; made by {@link ListenerState#track}.
 */
public final class IdleTimer {
    private final Channel client;
    private final ListenerSession session;
    private final long limitNanos;
    private long lastActivityNanos = System.nanoTime();
    private ScheduledFuture<?> check;

    IdleTimer(Channel client, ListenerSession session, Duration limit) {
        this.client = client;
        this.session = session;
        this.limitNanos = limit.toNanos();
        schedule(limitNanos);
    }

    /** Traffic just moved. */
    public void touch() {
        lastActivityNanos = System.nanoTime();
    }

    void cancel() {
        check.cancel(false);
    }

    private void schedule(long delayNanos) {
        check = client.eventLoop().schedule(() -> {
            long idleFor = System.nanoTime() - lastActivityNanos;
            if (idleFor >= limitNanos) {
                session.close(CloseReason.IDLE_TIMEOUT);
            } else {
                schedule(limitNanos - idleFor);
            }
        }, delayNanos, TimeUnit.NANOSECONDS);
    }
}
