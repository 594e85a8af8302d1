package dev.wharf.protocol;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** OrderedOutput on its own, behind a handler that defers what the test tells it to. */
class OrderedOutputTest {
    private final OrderedOutput output = new OrderedOutput();
    private final List<Object> toDefer = new ArrayList<>();
    private int readCompletes;
    private EmbeddedChannel channel;

    @AfterEach
    void releaseEverything() {
        channel.finishAndReleaseAll();
    }

    @Test
    void heldMessagesLeaveInOrderWithOneReadCompleteOnceTheHeadIsReady() {
        // given a deferred message that waits, and a plain one behind it
        start();
        TestDeferred deferred = new TestDeferred("second");
        write("first", deferred, "third");

        // then only what came before it went on
        assertEquals("first", readText());
        assertNull(channel.readInbound());
        int before = readCompletes;

        // when it is ready
        deferred.ready.complete(null);
        channel.runPendingTasks();

        // then both go, in order, with a read-complete
        assertEquals("second", readText());
        assertEquals("third", readText());
        assertEquals(before + 1, readCompletes);
    }

    @Test
    void aDeferredThatFailsToFinishIsDiscardedReportedAndReleasesWhatWaitedBehindIt() {
        // given a deferred message whose finish throws, and a buffer behind it
        start();
        TestDeferred failing = new TestDeferred(null);
        write(failing, "behind");

        // when it becomes ready
        failing.ready.complete(null);
        channel.runPendingTasks();

        // then the exception reaches the pipeline instead of the executor's log
        IllegalStateException thrown = assertThrows(IllegalStateException.class, channel::checkException);
        assertEquals("finish failed", thrown.getMessage());
        // and the deferred was discarded, what waited behind it released, nothing passed on
        assertTrue(failing.discarded);
        assertNull(channel.readInbound());
        assertFalse(output.waiting());
    }

    private void start() {
        channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                List<Object> out = new ArrayList<>();
                Object next = toDefer.remove(0);
                if (next instanceof OrderedOutput.Deferred deferred) {
                    ((ByteBuf) msg).release();
                    output.add(ctx, out, deferred);
                } else {
                    output.add(out, (ByteBuf) msg);
                }
                out.forEach(ctx::fireChannelRead);
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                if (!output.waiting()) {
                    ctx.fireChannelReadComplete();
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                output.close();
                ctx.fireChannelInactive();
            }
        }, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                readCompletes++;
                ctx.fireChannelReadComplete();
            }
        });
    }

    private void write(Object... messages) {
        for (Object message : messages) {
            toDefer.add(message);
            channel.writeInbound(Unpooled.copiedBuffer(message instanceof String s ? s : "-", US_ASCII));
        }
    }

    private String readText() {
        ByteBuf buf = channel.readInbound();
        try {
            return buf.toString(US_ASCII);
        } finally {
            buf.release();
        }
    }

    /** Finishes as {@code text}, or throws when that is null. */
    private static final class TestDeferred implements OrderedOutput.Deferred {
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        final String text;
        boolean discarded;

        TestDeferred(String text) {
            this.text = text;
        }

        @Override
        public CompletableFuture<?> ready() {
            return ready;
        }

        @Override
        public ByteBuf finish() {
            if (text == null) {
                throw new IllegalStateException("finish failed");
            }
            return Unpooled.copiedBuffer(text, US_ASCII);
        }

        @Override
        public void discard() {
            assertSame(null, text);
            discarded = true;
        }
    }
}
