package dev.wharf.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What a protocol decoder passes on, in the order it decoded it, when some messages must wait
 * (a rewritten reply naming a node whose proxy port is still being bound). While the oldest
 * message waits, later ones queue behind it and the decoder must not ask for more reads
 * ({@link #waiting()}); when it is ready the queue drains and a read-complete goes down the
 * pipeline, so the relay flushes and reads again. One instance per channel; event loop only.
 */
public final class OrderedOutput {
    /** A message that needs something to complete (a node port bound) before it can be built. */
    public interface Deferred {
        CompletableFuture<?> ready();

        /**
         * Called on the event loop once {@link #ready()} completed: the bytes to pass on. If it
         * throws, {@link #discard()} is called and the exception goes down the pipeline.
         */
        ByteBuf finish();

        /** The channel went away before it was passed on: release what it holds. */
        void discard();
    }

    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    private boolean closed;

    /** Passes {@code msg} on with this decode call's output, or queues it behind a waiting message. */
    public void add(List<Object> out, ByteBuf msg) {
        if (closed) {
            msg.release(); // decoded after the channel went away: nobody will drain it
        } else if (queue.isEmpty()) {
            out.add(msg);
        } else {
            queue.add(msg);
        }
    }

    /** Passes {@code msg} on when it is ready, after everything added before it. */
    public void add(ChannelHandlerContext ctx, List<Object> out, Deferred msg) {
        if (closed) {
            msg.discard();
            return;
        }
        if (queue.isEmpty() && msg.ready().isDone()) {
            out.add(finish(msg));
            return;
        }
        queue.add(msg);
        if (queue.size() == 1) {
            drainWhenReady(ctx, msg);
        }
    }

    /** Whether a message is held back: the decoder must then not propagate read-complete (no new reads). */
    public boolean waiting() {
        return !queue.isEmpty();
    }

    /** Releases everything queued; later completions are discarded. Call from channelInactive or handlerRemoved. */
    public void close() {
        closed = true;
        for (Object held; (held = queue.poll()) != null; ) {
            if (held instanceof ByteBuf buf) {
                buf.release();
            } else {
                ((Deferred) held).discard();
            }
        }
    }

    private void drainWhenReady(ChannelHandlerContext ctx, Deferred head) {
        head.ready().whenComplete((result, error) -> ctx.executor().execute(() -> drain(ctx)));
    }

    private void drain(ChannelHandlerContext ctx) {
        if (closed) {
            return;
        }
        boolean fired = false;
        while (!queue.isEmpty() && !closed) { // closed: a read fired below can close the channel
            Object head = queue.peek();
            if (head instanceof Deferred deferred) {
                if (!deferred.ready().isDone()) {
                    drainWhenReady(ctx, deferred);
                    break;
                }
                queue.poll();
                ByteBuf finished;
                try {
                    finished = finish(deferred);
                } catch (RuntimeException e) {
                    // Thrown in an executor task it would only be logged, leaving the queue stuck
                    // and the channel unread: the pipeline closes the session instead.
                    close();
                    ctx.fireExceptionCaught(e);
                    return;
                }
                ctx.fireChannelRead(finished);
            } else {
                ctx.fireChannelRead(queue.poll());
            }
            fired = true;
        }
        if (fired && queue.isEmpty()) {
            ctx.fireChannelReadComplete();
        }
    }

    private static ByteBuf finish(Deferred msg) {
        try {
            return msg.finish();
        } catch (RuntimeException e) {
            msg.discard();
            throw e;
        }
    }
}
