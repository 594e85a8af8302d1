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
         * throws, it has released what it held; the error goes down the pipeline as an exception.
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
            out.add(msg.finish());
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

    /**
     * Releases everything queued; later completions, and messages added later, are discarded.
     * Call from channelInactive or handlerRemoved.
     */
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
        boolean fired = false;
        // A message passed on may close the channel (and so this output) before the loop ends.
        while (!closed && !queue.isEmpty()) {
            Object head = queue.peek();
            if (head instanceof Deferred deferred) {
                if (!deferred.ready().isDone()) {
                    drainWhenReady(ctx, deferred);
                    return;
                }
                queue.poll();
                ByteBuf finished;
                try {
                    finished = deferred.finish();
                } catch (RuntimeException e) {
                    // This runs in an event-loop task, not in a decode call: without this the error
                    // would only be logged by the executor and the queue would hold the channel forever.
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
        if (fired && !closed) {
            ctx.fireChannelReadComplete();
        }
    }
}
