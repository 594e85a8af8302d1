package dev.wharf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A malformed frame, from either side, closes that session with a log line that says what was
 * wrong, and counts it; the listener goes on serving new sessions.
 */
class ProtocolErrorIT {

    @Test
    void aKafkaResponseThatAnswersNoRequestClosesTheSessionNotTheListener() throws Exception {
        // given an "upstream" that sends every request back: a request is no response to itself
        ListAppender<ILoggingEvent> logs = captureLogs();
        try (TestUpstream echo = TestUpstream.echo();
             TestWharf wharf = TestWharf.start(kafkaListener(echo.address()))) {
            for (int session = 1; session <= 2; session++) {
                try (Socket client = Clients.connect(wharf.port("kafka"))) {
                    // when
                    sendApiVersionsRequest(client.getOutputStream(), 7);

                    // then
                    assertTrue(closedAfterReading(client.getInputStream()), "session " + session + " closed");
                }
            }
            RelayIT.awaitMetric(wharf, 2, "wharf_protocol_errors_total", "listener", "kafka", "side", "upstream");
            assertEquals(2, wharf.metric("wharf_connections_total", "listener", "kafka", "outcome", "accepted"));
        } finally {
            detach(logs);
        }
        List<String> lines = warnings(logs);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("closing the session: malformed kafka from the upstream:")
                && l.contains("correlation")), "a line naming the broken correlation, in " + lines);
    }

    @Test
    void anOversizedKafkaRequestIsRefusedBeforeAnyByteOfItReachesTheBroker() throws Exception {
        // given
        ListAppender<ILoggingEvent> logs = captureLogs();
        try (TestUpstream echo = TestUpstream.echo();
             TestWharf wharf = TestWharf.start(kafkaListener(echo.address()));
             Socket client = Clients.connect(wharf.port("kafka"))) {
            // when a frame says it is 2 GiB long
            DataOutputStream out = new DataOutputStream(client.getOutputStream());
            out.writeInt(Integer.MAX_VALUE);
            out.write(new byte[64]);
            out.flush();

            // then
            assertTrue(closedAfterReading(client.getInputStream()), "closed without an answer");
            RelayIT.awaitMetric(wharf, 1, "wharf_protocol_errors_total", "listener", "kafka", "side", "client");
            assertEquals(0.0, wharf.metric("wharf_bytes_total", "listener", "kafka", "direction", "to_client"));
        } finally {
            detach(logs);
        }
        assertTrue(warnings(logs).stream().anyMatch(l -> l.contains("malformed kafka from the client")
                && l.contains(String.valueOf(Integer.MAX_VALUE))), "a line with the size, in " + warnings(logs));
    }

    @Test
    void aRedisReplyThatIsNotRespClosesTheSessionNotTheListener() throws Exception {
        // given a "Redis node" that answers anything with bytes that are no RESP type
        try (TestUpstream garbage = TestUpstream.start(socket -> {
                 socket.getInputStream().read(new byte[64]);
                 socket.getOutputStream().write("?what\r\n".getBytes(StandardCharsets.US_ASCII));
                 socket.getOutputStream().flush();
                 socket.getInputStream().read(new byte[64]);
             });
             TestWharf wharf = TestWharf.start(redisListener(garbage.address()))) {
            for (int session = 1; session <= 2; session++) {
                try (Socket client = Clients.connect(wharf.port("redis"))) {
                    // when
                    RelayIT.write(client.getOutputStream(), "*1\r\n$4\r\nPING\r\n");

                    // then
                    assertTrue(closedAfterReading(client.getInputStream()), "session " + session + " closed");
                }
            }
            RelayIT.awaitMetric(wharf, 2, "wharf_protocol_errors_total", "listener", "redis", "side", "upstream");
        }
    }

    private static String kafkaListener(String upstream) throws Exception {
        return RelayIT.listener("kafka", Clients.freePort(), "protocol = kafka, kafka { advertised-host = \"127.0.0.1\","
                + " broker-port-base = " + Clients.freePort() + ", max-node-id = 0 },", upstream);
    }

    private static String redisListener(String upstream) throws Exception {
        return RelayIT.listener("redis", Clients.freePort(), "protocol = redis-cluster, redis-cluster {"
                + " advertised-host = \"127.0.0.1\" },", upstream);
    }

    /** An ApiVersions v0 request: size, api key 18, version 0, correlation id, client id "t". */
    private static void sendApiVersionsRequest(OutputStream stream, int correlationId) throws Exception {
        DataOutputStream out = new DataOutputStream(stream);
        out.writeInt(2 + 2 + 4 + 2 + 1);
        out.writeShort(18);
        out.writeShort(0);
        out.writeInt(correlationId);
        out.writeShort(1);
        out.writeByte('t');
        out.flush();
    }

    /** Reads until EOF; true if the peer closed (the reads end), whatever came before. */
    private static boolean closedAfterReading(InputStream in) throws Exception {
        byte[] buffer = new byte[4096];
        while (true) {
            try {
                if (in.read(buffer) < 0) {
                    return true;
                }
            } catch (java.net.SocketException reset) {
                return true;
            }
        }
    }

    private static ListAppender<ILoggingEvent> captureLogs() {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(appender);
        return appender;
    }

    private static void detach(ListAppender<ILoggingEvent> appender) {
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(appender);
    }

    private static List<String> warnings(ListAppender<ILoggingEvent> logs) {
        return logs.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).toList();
    }
}
