package dev.wharf.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The per-connection state of a scenario. Everything but {@link #start()} and the results read
 * after {@link #closed()} completes runs on the connection's event loop, so the fields need no
 * synchronisation; completing {@link #closed()} publishes them to the thread that waits on it.
 */
abstract class LoadConnection extends ChannelInboundHandlerAdapter {
    protected ChannelHandlerContext ctx;
    /** Payload bytes written to the connection (mode bytes and headers not included). */
    protected long sent;
    /** Bytes received from the connection. */
    protected long received;
    /** Set by the subclass when it closes the connection itself, having seen all it expected. */
    protected boolean done;
    private Throwable failure;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Runs {@link #onStart()} on the connection's event loop; call once the connection is open. */
    final void start() {
        ctx.executor().execute(() -> {
            try {
                onStart();
            } catch (RuntimeException e) {
                fail(e);
            }
        });
    }

    protected abstract void onStart();

    /** {@code buf} holds {@code bytes} received bytes; it is released after this returns. */
    protected abstract void onRead(ByteBuf buf, int bytes);

    /** Called once the connection is closed, whoever closed it; may record a failure. */
    protected void onClosed() {
        if (!done) {
            recordFailure(new IllegalStateException("connection closed by the target before the scenario finished"));
        }
    }

    @Override
    public final void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        try {
            int bytes = buf.readableBytes();
            received += bytes;
            onRead(buf, bytes);
        } finally {
            buf.release();
        }
    }

    @Override
    public final void channelInactive(ChannelHandlerContext ctx) {
        try {
            onClosed();
        } finally {
            closed.complete(null);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(cause);
    }

    /** Writes payload bytes (counted in {@link #sent}) without flushing. */
    protected final void send(ByteBuf buf) {
        sent += buf.readableBytes();
        ctx.write(buf, ctx.voidPromise());
    }

    /** Records the first failure and closes the connection. */
    protected final void fail(Throwable cause) {
        recordFailure(cause);
        ctx.close();
    }

    protected final void fail(String message) {
        fail(new IllegalStateException(message));
    }

    private void recordFailure(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
    }

    /** Closes the connection as planned: everything expected has arrived. */
    protected final void finish() {
        done = true;
        ctx.close();
    }

    final CompletableFuture<Void> closed() {
        return closed;
    }

    /** The first failure, or null; read it only after {@link #closed()} completed. */
    final Throwable failure() {
        return failure;
    }

    /**
     * Waits until every connection has closed, by {@code deadlineNanos} (a {@link System#nanoTime()}
     * value) at the latest, then throws the first failure any of them recorded.
     */
    static void awaitAll(List<? extends LoadConnection> connections, long deadlineNanos, String what)
            throws InterruptedException {
        for (LoadConnection c : connections) {
            try {
                c.closed().get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                connections.forEach(x -> x.ctx.channel().close());
                throw new IllegalStateException(what + ": a connection did not finish in time (target stalled?)");
            } catch (ExecutionException e) {
                throw new IllegalStateException(what, e.getCause()); // never: closed() only completes normally
            }
        }
        for (LoadConnection c : connections) {
            if (c.failure() != null) {
                throw new IllegalStateException(what + ": " + c.failure(), c.failure());
            }
        }
    }

    /** Throws unless the echo returned every byte the connections sent, before they closed. */
    static void requireEchoedInFull(List<? extends LoadConnection> connections, String what) {
        long sent = connections.stream().mapToLong(c -> c.sent).sum();
        long received = connections.stream().mapToLong(c -> c.received).sum();
        if (sent != received) {
            throw new IllegalStateException(what + ": sent " + sent + " bytes, echo returned " + received);
        }
    }
}
