package dev.wharf.testing;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class on any Netty "LEAK:" report. Registered for every test class through JUnit's
 * extension autodetection (META-INF/services + junit-platform.properties); the test JVMs run Netty's
 * leak detector at paranoid, so every buffer is tracked.
 *
 * <p>Netty only notices a leak when the leaked buffer has been garbage-collected and a later
 * allocation polls the detector's reference queue; left alone, a leak may go unreported or surface
 * in an unrelated class. {@link #detectLeaks()} forces both steps.
 */
public final class LeakGuard implements AfterAllCallback {

    private static final int PROBE_ALLOCATIONS = 256;

    @Override
    public void afterAll(ExtensionContext context) {
        assertNoLeaks("by the end of " + context.getDisplayName());
    }

    /** Forces leak detection, then throws listing every recorded report (and forgets them) if any. */
    public static void assertNoLeaks() {
        assertNoLeaks("so far");
    }

    private static void assertNoLeaks(String when) {
        detectLeaks();
        List<String> leaks = LeakRecordingAppender.drain();
        if (!leaks.isEmpty()) {
            throw new AssertionError("Netty reported " + leaks.size() + " leaked buffer(s) " + when + ":\n"
                    + String.join("\n\n", leaks));
        }
    }

    /**
     * Collects garbage and makes the leak detector poll its queue, so that buffers leaked so far are
     * reported; returns every report recorded so far (without forgetting them).
     */
    public static List<String> detectLeaks() {
        for (int i = 0; i < 2; i++) {
            System.gc();
        }
        try {
            Thread.sleep(100); // the reference handler thread enqueues the collected buffers' references
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Leak checks run on allocation of a tracked buffer; allocate from each kind of allocator in use.
        for (ByteBufAllocator allocator : List.of(PooledByteBufAllocator.DEFAULT, ByteBufAllocator.DEFAULT)) {
            for (int i = 0; i < PROBE_ALLOCATIONS; i++) {
                allocator.directBuffer(16).release();
                allocator.heapBuffer(16).release();
            }
        }
        return LeakRecordingAppender.reports();
    }
}
