package dev.wharf.relay;

import static dev.wharf.it.ProxyHeaders.concat;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.it.ProxyHeaders;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The PROXY header reader on its own: bytes in, and the decision it hands to admission out. */
class ProxyProtocolHandlerTest {
    private static final InetSocketAddress PEER = new InetSocketAddress("127.0.0.2", 50000);

    private final Recorder decision = new Recorder();
    private EmbeddedChannel channel;

    @AfterEach
    void releaseEverything() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void v1HeaderNamesTheSourceAndTheBytesBehindItAreKept() {
        // given a trusted peer on a required listener
        start(true, true);

        // when the header and the first request arrive in one packet
        write(concat(ProxyHeaders.v1("10.1.2.3", 40000), ascii("PING\r\n")));

        // then admission runs on the header's source, with the request kept for the upstream
        assertEquals(new InetSocketAddress("10.1.2.3", 40000), decision.source);
        assertEquals(PEER, decision.proxy);
        assertEquals("PING\r\n", decision.early);
        assertFalse(decision.eof);
        // and neither the reader nor Netty's decoder stays in the pipeline
        assertNull(channel.pipeline().get(ProxyProtocolHandler.NAME));
        assertNull(channel.pipeline().get(ProxyProtocolHandler.DECODER_NAME));
    }

    @Test
    void v2HeaderArrivingOneByteAtATimeIsReadWhole() {
        // given
        start(true, true);
        byte[] header = ProxyHeaders.v2("2001:db8::7", 40001);

        // when every byte comes in its own read, the last one with the first request
        for (int i = 0; i < header.length - 1; i++) {
            write(new byte[] {header[i]});
            assertNull(decision.source, "decided after " + (i + 1) + " bytes");
        }
        write(concat(new byte[] {header[header.length - 1]}, ascii("hello")));

        // then
        assertEquals(new InetSocketAddress("2001:db8::7", 40001), decision.source);
        assertEquals(PEER, decision.proxy);
        assertEquals("hello", decision.early);
        assertTrue(channel.isOpen());
    }

    @Test
    void v2LocalAndV1UnknownMeanThePeerItself() {
        for (byte[] header : new byte[][] {ProxyHeaders.v2Local(), ProxyHeaders.v1Unknown()}) {
            // given
            decision.reset();
            start(true, true);

            // when
            write(header);

            // then the proxy's own connection (a health check) is its own source, with nothing behind
            assertEquals(PEER, decision.source);
            assertNull(decision.proxy);
            assertNull(decision.early);
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void optionalListenerPassesATrustedPeerWithoutHeaderAsItself() {
        // given
        start(true, false);

        // when the first bytes are the protocol's own
        write(ascii("*1\r\n$4\r\nPING\r\n"));

        // then
        assertEquals(PEER, decision.source);
        assertNull(decision.proxy);
        assertEquals("*1\r\n$4\r\nPING\r\n", decision.early);
    }

    @Test
    void optionalListenerWaitsUntilTheFirstBytesCannotBeASignature() {
        // given
        start(false, false);

        // when the first bytes could still be "PROXY "
        write(ascii("PRO"));

        // then nothing is decided yet
        assertNull(decision.source);

        // when the next one rules it out
        write(ascii("PAGATE\r\n"));

        // then
        assertEquals(PEER, decision.source);
        assertEquals("PROPAGATE\r\n", decision.early);
    }

    @Test
    void optionalListenerPassesAShortMessageFollowedByEof() {
        // given
        start(true, false);

        // when the client sends less than a signature and shuts down its side
        write(ascii("PR"));
        channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);

        // then those bytes are data, and the EOF is passed on
        assertEquals(PEER, decision.source);
        assertEquals("PR", decision.early);
        assertTrue(decision.eof);
    }

    @Test
    void headerFromAnUntrustedPeerIsRejected() {
        // given an optional listener and a peer not in trusted-proxies
        start(false, false);

        // when it claims another source
        write(ProxyHeaders.v2("10.1.2.3", 40000));

        // then
        assertRejected("a PROXY header from a peer not in trusted-proxies");
    }

    @Test
    void requiredListenerRejectsAConnectionWithoutHeader() {
        // given
        start(true, true);

        // when
        write(ascii("GET / HTTP/1.1\r\n"));

        // then
        assertRejected("the connection does not start with a PROXY header");
    }

    @Test
    void oversizedV1LineIsRejectedWithoutWaitingForItsEnd() {
        // given
        start(true, true);
        byte[] line = new byte[120];
        Arrays.fill(line, (byte) '1');
        System.arraycopy(ascii("PROXY TCP4 "), 0, line, 0, 11);

        // when 120 bytes come with no CRLF
        write(line);

        // then
        assertRejected("malformed PROXY header: header length (over 120) exceeds the allowed maximum (108)");
    }

    @Test
    void garbageAfterTheSignatureIsRejected() {
        // given
        start(true, true);

        // when
        write(ascii("PROXY TCP4 not-an-address 10.9.9.9 1 2\r\nPING\r\n"));

        // then
        assertTrue(decision.rejected.startsWith("malformed PROXY header: "), decision.rejected);
        assertFalse(channel.isOpen());
        assertNull(decision.source);
    }

    @Test
    void v2WithTlvsLargerThanTheBoundIsRejected() {
        // given
        start(true, true);

        // when 4096 bytes of TLVs pass and 5000 do not
        write(ProxyHeaders.v2WithTlv("10.1.2.3", 40000, 4096));
        assertEquals(new InetSocketAddress("10.1.2.3", 40000), decision.source);
        decision.reset();
        channel.finishAndReleaseAll();
        start(true, true);
        write(ProxyHeaders.v2WithTlv("10.1.2.3", 40000, 5000));

        // then
        assertTrue(decision.rejected.contains("exceeds the allowed maximum"), decision.rejected);
        assertFalse(channel.isOpen());
    }

    @Test
    void v2ForUdpIsRejected() {
        // given
        start(true, true);

        // when
        write(ProxyHeaders.v2Udp("10.1.2.3", 40000));

        // then
        assertRejected("a PROXY header for UDP4 (expected: TCP4, TCP6 or UNKNOWN)");
    }

    @Test
    void truncatedHeaderIsRejectedAtTheTimeout() {
        // given
        start(true, true);
        byte[] header = ProxyHeaders.v1("10.1.2.3", 40000);

        // when part of the header arrives and then nothing
        write(Arrays.copyOf(header, 20));
        channel.advanceTimeBy(ProxyProtocolHandler.HEADER_TIMEOUT.toMillis() - 1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertTrue(channel.isOpen());
        channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();

        // then
        assertRejected("no complete PROXY header within 3 s");
    }

    @Test
    void silenceIsRejectedAtTheTimeout() {
        // given an optional listener: a peer that sends nothing cannot be told apart from a slow header
        start(true, false);

        // when
        channel.advanceTimeBy(ProxyProtocolHandler.HEADER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();

        // then
        assertRejected("no complete PROXY header within 3 s");
    }

    @Test
    void eofInTheMiddleOfAHeaderIsRejected() {
        // given
        start(true, true);
        byte[] header = ProxyHeaders.v2("10.1.2.3", 40000);

        // when
        write(Arrays.copyOf(header, 14));
        channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);

        // then
        assertRejected("the client shut down its side before a complete PROXY header");
    }

    @Test
    void theTimeoutIsCancelledOnceAdmitted() {
        // given
        start(true, true);
        write(ProxyHeaders.v1("10.1.2.3", 40000));

        // when the timeout would have fired
        channel.advanceTimeBy(ProxyProtocolHandler.HEADER_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();

        // then
        assertNull(decision.rejected);
        assertTrue(channel.isOpen());
    }

    private void start(boolean trusted, boolean required) {
        channel = new EmbeddedChannel();
        // Only advanceTimeBy moves the clock: real time passing on a loaded machine must not fire the timeout early.
        channel.freezeTime();
        channel.config().setAutoRead(false);
        channel.pipeline().addLast(ProxyProtocolHandler.NAME, new ProxyProtocolHandler(decision, PEER, trusted, required));
    }

    private void write(byte[] bytes) {
        channel.writeInbound(Unpooled.wrappedBuffer(bytes));
    }

    private void assertRejected(String why) {
        assertEquals(why, decision.rejected);
        assertNull(decision.source);
        assertFalse(channel.isOpen());
    }

    private static byte[] ascii(String s) {
        return s.getBytes(US_ASCII);
    }

    /** Stands in for AdmissionHandler: remembers the decision, and closes on a rejection as it does. */
    private static final class Recorder implements ProxyProtocolHandler.Decision {
        InetSocketAddress source;
        InetSocketAddress proxy;
        String early;
        boolean eof;
        String rejected;

        @Override
        public void admit(Channel client, InetSocketAddress source, InetSocketAddress proxy, ByteBuf early, boolean eof) {
            this.source = source;
            this.proxy = proxy;
            this.eof = eof;
            if (early != null) {
                this.early = early.toString(US_ASCII);
                early.release();
            }
        }

        @Override
        public void reject(Channel client, InetSocketAddress peer, String why) {
            rejected = why;
            client.close();
        }

        void reset() {
            source = null;
            proxy = null;
            early = null;
            eof = false;
            rejected = null;
        }
    }
}
