package dev.wharf.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.wharf.config.Endpoint;
import dev.wharf.upstream.EndpointState.Health;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class EndpointStateTest {
    private final EndpointState endpoint = new EndpointState(new Endpoint("127.0.0.1", 5432, 0),
            new InetSocketAddress("127.0.0.1", 5432), "127.0.0.1:5432", Health.UNKNOWN);

    @Test
    void theFirstVerdictStandsAtOnceThenRiseAndFallCountResultsInARow() {
        assertEquals(Health.UP, endpoint.record(true, "ok", 2, 3));
        // a flapping endpoint: failures that never reach fall = 3 in a row change nothing
        for (int i = 0; i < 5; i++) {
            assertNull(endpoint.record(false, "refused", 2, 3));
            assertNull(endpoint.record(false, "refused", 2, 3));
            assertNull(endpoint.record(true, "ok", 2, 3));
        }
        assertNull(endpoint.record(false, "refused", 2, 3));
        assertNull(endpoint.record(false, "refused", 2, 3));
        assertEquals(Health.DOWN, endpoint.record(false, "refused", 2, 3));
        assertEquals("refused", endpoint.lastCheck());
        assertNull(endpoint.record(true, "ok", 2, 3));
        assertNull(endpoint.record(false, "refused", 2, 3));
        assertNull(endpoint.record(true, "ok", 2, 3));
        assertEquals(Health.UP, endpoint.record(true, "ok", 2, 3));
    }

    @Test
    void aRestartedCheckDecidesOnItsFirstResult() {
        assertEquals(Health.UP, endpoint.record(true, "ok", 1, 5));
        endpoint.checkStarted();
        assertEquals(Health.DOWN, endpoint.record(false, "HTTP 503 (expected 200)", 1, 5));
    }
}
