package dev.wharf.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class ConnectionLimiterTest {
    private final ConnectionLimiter limiter = new ConnectionLimiter();

    @Test
    void perSourceAndTotalLimitsAreEnforcedAndReleased() throws Exception {
        InetAddress a = InetAddress.getByName("10.0.0.1");
        InetAddress b = InetAddress.getByName("10.0.0.2");
        // given a limit of 3 in all and 2 per source
        assertTrue(limiter.tryAcquire(a, 3, 2));
        assertTrue(limiter.tryAcquire(a, 3, 2));
        // then a third from a is refused, and takes nothing
        assertFalse(limiter.tryAcquire(a, 3, 2));
        assertEquals(2, limiter.total());
        // and b gets the last slot in all, then nobody gets in
        assertTrue(limiter.tryAcquire(b, 3, 2));
        assertFalse(limiter.tryAcquire(b, 3, 2));
        // when a releases one, a may come back
        limiter.release(a);
        assertTrue(limiter.tryAcquire(a, 3, 2));
        assertEquals(3, limiter.total());
    }

    @Test
    void countsAreKeptWhileTheLimitIsOffSoTurningItOnBitesAtOnce() throws Exception {
        InetAddress a = InetAddress.getByName("::1");
        for (int i = 0; i < 5; i++) {
            assertTrue(limiter.tryAcquire(a, 100, 0));
        }
        assertFalse(limiter.tryAcquire(a, 100, 5));
        limiter.release(a);
        assertTrue(limiter.tryAcquire(a, 100, 5));
    }
}
