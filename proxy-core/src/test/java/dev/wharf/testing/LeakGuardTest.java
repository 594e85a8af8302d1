package dev.wharf.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class LeakGuardTest {

    @Test
    void leakDetectorRunsAtParanoidInTests() {
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel(),
                "surefire/failsafe argLine must set -Dio.netty.leakDetection.level=paranoid");
    }

    @Test
    void guardReportsABufferThatIsNeverReleased() {
        try {
            leakOneBuffer();
            List<String> ours = awaitOwnReports();
            assertTrue(ours.get(0).contains("LEAK:"), ours.get(0));

            // The real guard must fail on it, and forget it once reported.
            AssertionError error = assertThrows(AssertionError.class, LeakGuard::assertNoLeaks);
            assertTrue(error.getMessage().contains("leakOneBuffer"), error.getMessage());
            assertTrue(LeakRecordingAppender.reports().stream().noneMatch(LeakGuardTest::isOurs));
        } finally {
            // Whatever happened above, this deliberate leak must not fail the suite's real guard.
            LeakRecordingAppender.removeIf(LeakGuardTest::isOurs);
        }
    }

    @Test
    void releasedBuffersAreNotReported() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        buf.writeCharSequence("released", StandardCharsets.US_ASCII);
        buf.release();
        assertTrue(LeakGuard.detectLeaks().stream().noneMatch(r -> r.contains("releasedBuffersAreNotReported")));
    }

    /** In its own frame, so the buffer is unreachable (and collectable) once this returns. */
    private static void leakOneBuffer() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        buf.writeCharSequence("deliberately leaked", StandardCharsets.US_ASCII);
    }

    /** The GC gives no guarantee of collecting on the first System.gc(), so retry for a while. */
    private static List<String> awaitOwnReports() {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            List<String> ours = LeakGuard.detectLeaks().stream().filter(LeakGuardTest::isOurs).toList();
            if (!ours.isEmpty()) {
                return ours;
            }
        }
        return fail("no leak report for the buffer leaked in leakOneBuffer() within 10 s");
    }

    /** Paranoid level records where the buffer was allocated, which names this method. */
    private static boolean isOurs(String report) {
        return report.contains("LeakGuardTest.leakOneBuffer");
    }
}
