package dev.wharf.access;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts a listener's open sessions, in all and per source address, and refuses the ones over
 * the limits. Counts are kept even when a limit is off, so turning one on takes effect at once.
 */
public final class ConnectionLimiter {
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> perSource = new ConcurrentHashMap<>();

    /**
     * Takes a slot for {@code source}.
     *
     * @param maxPerSource 0 for no per-source limit
     * @return false when a limit is reached; nothing is taken then
     */
    public boolean tryAcquire(InetAddress source, int max, int maxPerSource) {
        if (total.incrementAndGet() > max) {
            total.decrementAndGet();
            return false;
        }
        boolean[] taken = {true};
        perSource.compute(source, (address, count) -> {
            int n = count == null ? 0 : count;
            if (maxPerSource > 0 && n >= maxPerSource) {
                taken[0] = false;
                return count;
            }
            return n + 1;
        });
        if (!taken[0]) {
            total.decrementAndGet();
        }
        return taken[0];
    }

    public void release(InetAddress source) {
        perSource.computeIfPresent(source, (address, count) -> count == 1 ? null : count - 1);
        total.decrementAndGet();
    }

    public int total() {
        return total.get();
    }
}
