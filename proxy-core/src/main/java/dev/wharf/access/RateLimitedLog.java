package dev.wharf.access;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Lets at most {@code perWindow} log lines through per window and counts the rest, so that a
 * flood of denied connections cannot fill a disk. The next line let through reports how many
 * were suppressed.
 */
public final class RateLimitedLog {
    private final int perWindow;
    private final long windowNanos;
    private final LongSupplier nanoTime;
    private final AtomicLong windowStart;
    private final AtomicLong inWindow = new AtomicLong();
    private final AtomicLong suppressed = new AtomicLong();

    public RateLimitedLog(int perWindow, java.time.Duration window) {
        this(perWindow, window, System::nanoTime);
    }

    /** With {@code nanoTime} as the clock, which tests control. */
    RateLimitedLog(int perWindow, java.time.Duration window, LongSupplier nanoTime) {
        this.perWindow = perWindow;
        this.windowNanos = window.toNanos();
        this.nanoTime = nanoTime;
        this.windowStart = new AtomicLong(nanoTime.getAsLong());
    }

    /** An INFO event builder for {@code log}, or null when this line must be dropped. */
    public LoggingEventBuilder atInfo(Logger log) {
        return at(log, Level.INFO);
    }

    /** A WARN event builder for {@code log}, or null when this line must be dropped. */
    public LoggingEventBuilder atWarn(Logger log) {
        return at(log, Level.WARN);
    }

    private LoggingEventBuilder at(Logger log, Level level) {
        if (!log.isEnabledForLevel(level)) {
            return null;
        }
        long now = nanoTime.getAsLong();
        long start = windowStart.get();
        if (now - start >= windowNanos && windowStart.compareAndSet(start, now)) {
            inWindow.set(0);
        }
        if (inWindow.incrementAndGet() > perWindow) {
            suppressed.incrementAndGet();
            return null;
        }
        LoggingEventBuilder event = log.atLevel(level);
        long dropped = suppressed.getAndSet(0);
        return dropped > 0 ? event.addKeyValue("suppressed", dropped) : event;
    }
}
