package dev.wharf.testing;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Records Netty's "LEAK:" reports so that {@link LeakGuard} can fail the test run on them; attached
 * in logback-test.xml to the logger {@code io.netty.util.ResourceLeakDetector}. The record is static
 * because logback creates the appender and the tests never see that instance.
 */
public final class LeakRecordingAppender extends AppenderBase<ILoggingEvent> {

    private static final List<String> REPORTS = new ArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
        String message = event.getFormattedMessage();
        if (message != null && message.contains("LEAK:")) {
            synchronized (REPORTS) {
                REPORTS.add(message);
            }
        }
    }

    /** The leak reports recorded so far. */
    public static List<String> reports() {
        synchronized (REPORTS) {
            return List.copyOf(REPORTS);
        }
    }

    /** Removes and returns every report recorded so far. */
    public static List<String> drain() {
        synchronized (REPORTS) {
            List<String> all = List.copyOf(REPORTS);
            REPORTS.clear();
            return all;
        }
    }

    /** Forgets the reports that match, e.g. those of a leak a test made on purpose. */
    public static void removeIf(Predicate<String> filter) {
        synchronized (REPORTS) {
            REPORTS.removeIf(filter);
        }
    }
}
