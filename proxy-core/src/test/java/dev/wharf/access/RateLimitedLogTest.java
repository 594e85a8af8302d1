package dev.wharf.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RateLimitedLogTest {
    @Test
    void aFloodIsCutToTheBudgetAndTheNextLineSaysHowManyWereDropped() {
        Logger log = (Logger) LoggerFactory.getLogger("rate-limited-log-test");
        log.setLevel(Level.INFO);
        ListAppender<ILoggingEvent> seen = new ListAppender<>();
        seen.start();
        log.addAppender(seen);
        AtomicLong clock = new AtomicLong();
        RateLimitedLog limited = new RateLimitedLog(3, Duration.ofMillis(200), clock::get);
        // when 100 lines are offered within one window
        for (int i = 0; i < 100; i++) {
            var event = limited.atInfo(log);
            if (event != null) {
                event.log("denied {}", i);
            }
        }
        // then 3 get through
        assertEquals(3, seen.list.size());
        // and after the window, the next one reports the 97 it dropped
        clock.addAndGet(Duration.ofMillis(250).toNanos());
        var next = limited.atInfo(log);
        assertNotNull(next);
        next.log("denied again");
        ILoggingEvent last = seen.list.get(3);
        assertEquals("suppressed", last.getKeyValuePairs().get(0).key);
        assertEquals(97L, last.getKeyValuePairs().get(0).value);
        assertNull(seen.list.get(0).getKeyValuePairs());
    }
}
