package dev.wharf.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.Native;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.UnixChannel;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoOps;
import io.netty.channel.uring.IoUringSocketChannel;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayDeque;

/**
 * Zero-copy relay for the bulk directions of one session: bytes go socket to pipe to socket with
 * {@code splice(2)} and never enter user space. A session starts on the heap relay; a direction
 * whose read loop brings a bulk-sized batch is taken over here ({@link Session#spliceFrom}).
 * Readiness comes from io_uring polls on the event loop both channels share; the splices are
 * non-blocking syscalls made on that loop.
 *
 * <p><b>The end of a stream is read by Netty.</b> Netty keeps both channels registered and, as
 * always, reads a socket by itself once its peer has half-closed (POLLRDHUP). Two readers of one
 * socket could reorder bytes, so a direction splices only in the handler of its own poll, and
 * only when that poll reported no RDHUP/HUP/ERR: the peer's FIN had not arrived when the poll
 * completed, so Netty had not started reading, and it cannot start while this handler runs on its
 * thread. Once a poll reports the FIN (or Netty delivers a read first), the direction is handed
 * over: Netty reads the rest (what was in flight before the FIN, a few socket buffers at most) and
 * the EOF, and this class writes them after whatever the pipe still holds, then shuts the sink's
 * output down ({@link Session#inputShutdown}).
 *
 * <p>Netty never writes to a spliced direction's sink, which is non-blocking: Netty 4.2's io_uring
 * writev can get EAGAIN there, and its POLLOUT poll then completes with only POLLRDHUP set if the
 * peer has half-closed; Netty reads that as a hang-up and never writes again.
 */
public final class Splicer implements IoUringIoHandle {
    /**
     * The JDK's own fcntl(O_NONBLOCK) for a raw fd ({@code sun.nio.ch.IOUtil}). Netty's io_uring
     * transport accepts sockets in blocking mode, and a splice into a full blocking socket would
     * stall the event loop until the peer reads; a non-blocking one returns at once and the relay
     * polls. Reaching it needs {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} (wharf.jar's
     * manifest has it).
     */
    private static final MethodHandle NEW_FD;
    private static final MethodHandle CONFIGURE_BLOCKING;
    /** Why splice is off for every session of this process, or null when it works. */
    private static final Throwable UNAVAILABLE;

    static {
        MethodHandle newFd = null;
        MethodHandle configureBlocking = null;
        Throwable unavailable = Epoll.unavailabilityCause();
        try {
            Class<?> ioUtil = Class.forName("sun.nio.ch.IOUtil");
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            newFd = lookup.findStatic(ioUtil, "newFD", MethodType.methodType(java.io.FileDescriptor.class, int.class));
            configureBlocking = lookup.findStatic(ioUtil, "configureBlocking",
                    MethodType.methodType(void.class, java.io.FileDescriptor.class, boolean.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (unavailable == null) {
                unavailable = new IllegalStateException("cannot make sockets non-blocking for splice; run Java with "
                        + "--add-exports java.base/sun.nio.ch=ALL-UNNAMED (" + e + ")");
            }
        }
        NEW_FD = newFd;
        CONFIGURE_BLOCKING = configureBlocking;
        UNAVAILABLE = unavailable;
    }

    // Linux ABI values (io_uring.h, poll.h, errno.h); Netty keeps its own copies package-private.
    private static final byte OP_POLL_ADD = 6;
    private static final byte OP_ASYNC_CANCEL = 14;
    private static final int POLLIN = 0x1;
    private static final int POLLOUT = 0x4;
    private static final int POLLERR = 0x8;
    private static final int POLLHUP = 0x10;
    private static final int POLLRDHUP = 0x2000;
    private static final int ENDED = POLLRDHUP | POLLHUP | POLLERR;
    private static final int ECANCELED = 125;
    private static final int IORING_POLL_ADD_MULTI = 1;
    private static final int IORING_CQE_F_MORE = 2;
    /** A poll's tag: bit 0 = the client-to-upstream direction, bit 1 = POLLOUT, above = generation. */
    private static final int FROM_CLIENT = 1;
    private static final int OUT = 2;

    /** A pipe holds 64 KiB by default: the most one splice moves. */
    private static final int CHUNK = 64 * 1024;

    private final Session session;
    private final Direction toUpstream;
    private final Direction toClient;
    private IoRegistration registration;
    private boolean stopped;

    private Splicer(Session session, Channel client, Channel upstream) {
        this.session = session;
        this.toUpstream = new Direction(true, client, upstream);
        this.toClient = new Direction(false, upstream, client);
    }

    /** Why no session of this process can splice, or null when they can (on the io_uring transport). */
    public static Throwable unavailabilityCause() {
        return UNAVAILABLE;
    }

    /** Whether the two channels of a session can be spliced: both io_uring, and the epoll library loads. */
    static boolean supported(Channel client, Channel upstream) {
        return UNAVAILABLE == null && client instanceof IoUringSocketChannel && upstream instanceof IoUringSocketChannel;
    }

    /** A splicer for {@code session}, on its event loop; no direction splices until {@link #take} hands it one. */
    static Splicer create(Session session, Channel client, Channel upstream) {
        Splicer splicer = new Splicer(session, client, upstream);
        ((IoEventLoop) client.eventLoop()).register(splicer).addListener(f -> {
            if (!f.isSuccess()) {
                session.spliceFailed(f.cause());
                return;
            }
            splicer.registration = (IoRegistration) f.getNow();
            if (splicer.stopped) {
                splicer.registration.cancel();
                return;
            }
            splicer.toUpstream.startIfReady();
            splicer.toClient.startIfReady();
        });
        return splicer;
    }

    /**
     * Takes over the direction whose source is the client ({@code fromClient}) or the upstream.
     * The caller has just flushed that source's last read to the sink and will not ask Netty to
     * read it again; splicing starts once those bytes are written, so they stay first.
     */
    void take(boolean fromClient) {
        Direction d = fromClient ? toUpstream : toClient;
        if (d.owned || stopped) {
            return;
        }
        d.owned = true;
        d.sink.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            d.sinkFlushed = f.isSuccess();
            d.startIfReady();
        });
    }

    /** Whether this splicer owns that direction (starting or splicing): Netty must not read its source. */
    boolean owns(boolean fromClient) {
        return (fromClient ? toUpstream : toClient).owned;
    }

    /** Bytes Netty read from an owned direction's source (the end of its stream): written after the pipe's. */
    void handedOver(boolean fromClient, ByteBuf data) {
        (fromClient ? toUpstream : toClient).queue(data);
    }

    /** Netty saw EOF on an owned direction's source: it follows the bytes before it. */
    void eofHandedOver(boolean fromClient) {
        (fromClient ? toUpstream : toClient).queueEof();
    }

    /** Ends splicing: cancels the polls (they hold the sockets open) and frees the pipes and held bytes. */
    void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        toUpstream.release();
        toClient.release();
        if (registration != null) {
            registration.cancel();
        }
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        IoUringIoEvent completion = (IoUringIoEvent) event;
        if (completion.opcode() != OP_POLL_ADD) {
            return; // a cancellation's own completion
        }
        int tag = completion.data() & 0xffff;
        Direction d = (tag & FROM_CLIENT) != 0 ? toUpstream : toClient;
        boolean out = (tag & OUT) != 0;
        boolean last = (completion.flags() & IORING_CQE_F_MORE) == 0;
        if (out) {
            if (tag >>> 2 != d.outGeneration) {
                return; // from a POLLOUT poll already cancelled
            }
            if (last) {
                d.pollOut = 0;
            }
        } else {
            d.pollIn = 0;
        }
        int res = completion.res();
        if (stopped || res == -ECANCELED) {
            return;
        }
        if (res < 0) {
            session.failed(out != d.fromClient, new IOException("poll failed: errno " + -res));
            return;
        }
        if (out) {
            d.writable();
        } else {
            d.readable(res);
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** One direction: source socket to pipe to sink socket; after a hand-over, Netty's reads to the sink. */
    private final class Direction {
        final boolean fromClient;
        final Channel source;
        final Channel sink;
        final FileDescriptor sourceFd;
        final FileDescriptor sinkFd;
        /** Taken over from the heap relay; {@code active} once the pipe exists and polls may run. */
        boolean owned;
        boolean sinkFlushed;
        boolean active;
        FileDescriptor pipeOut;
        FileDescriptor pipeIn;
        int inPipe;
        boolean handedOver;
        final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
        boolean eofPending;
        long pollIn;
        long pollOut;
        int outGeneration;

        Direction(boolean fromClient, Channel source, Channel sink) {
            this.fromClient = fromClient;
            this.source = source;
            this.sink = sink;
            this.sourceFd = ((UnixChannel) source).fd();
            this.sinkFd = ((UnixChannel) sink).fd();
        }

        /**
         * Starts once the direction is taken, the heap relay's last bytes are written and the
         * registration is in place. Only the sink becomes non-blocking: a splice into a full
         * blocking socket would stall the loop. The source stays as Netty made it, which is why
         * {@link #readable} splices once per poll (a blocking splice with bytes waiting returns).
         * Netty still writes the other way, to this direction's source, and its io_uring writes
         * mishandle EAGAIN on a non-blocking socket whose peer half-closed (see the class comment).
         */
        void startIfReady() {
            if (!owned || !sinkFlushed || registration == null || active || stopped) {
                return;
            }
            try {
                nonBlocking(sinkFd);
                FileDescriptor[] pipe = FileDescriptor.pipe();
                pipeOut = pipe[0];
                pipeIn = pipe[1];
            } catch (IOException e) {
                session.failed(!fromClient, e);
                return;
            }
            active = true;
            if (handedOver) {
                writable();
            } else {
                armIn();
            }
        }

        void armIn() {
            if (pollIn == 0 && !stopped) {
                pollIn = poll(sourceFd, POLLIN | POLLRDHUP, 0, fromClient ? FROM_CLIENT : 0);
            }
        }

        /**
         * Waits for room in the sink. io_uring reports RDHUP/HUP whatever the mask, so a one-shot
         * POLLOUT poll on a socket whose peer has half-closed (the usual request-then-reply shape)
         * would complete at once, over and over. A multishot poll fires on the socket's wakeups
         * instead, and is cancelled once everything waiting has gone out.
         */
        void armOut() {
            if (pollOut == 0 && !stopped) {
                outGeneration = (outGeneration + 1) & 0x3fff;
                pollOut = poll(sinkFd, POLLOUT, IORING_POLL_ADD_MULTI,
                        outGeneration << 2 | OUT | (fromClient ? FROM_CLIENT : 0));
            }
        }

        private void cancelOut() {
            if (pollOut != 0) {
                cancel(pollOut);
                pollOut = 0;
                outGeneration = (outGeneration + 1) & 0x3fff;
            }
        }

        private long poll(FileDescriptor fd, int mask, int flags, int tag) {
            return registration.submit(new IoUringIoOps(OP_POLL_ADD, (byte) 0, (short) 0, fd.intValue(), 0, 0, flags,
                    mask, (short) tag, (short) 0, (short) 0, 0, 0));
        }

        private void cancel(long id) {
            registration.submit(new IoUringIoOps(OP_ASYNC_CANCEL, (byte) 0, (short) 0, -1, 0, id, 0, 0,
                    (short) 0, (short) 0, (short) 0, 0, 0));
        }

        /** The source's poll completed with {@code mask}: splice while it has bytes and the sink takes them. */
        void readable(int mask) {
            if (handedOver) {
                return;
            }
            if ((mask & ENDED) != 0) {
                // Netty reads the rest by itself (it polls RDHUP too); asking makes sure of it.
                handedOver = true;
                RelayHandler.readMore(source);
                return;
            }
            int n;
            try {
                // One splice per poll: the source may be a blocking socket, and with bytes waiting
                // a splice returns what is there. 0 means EOF; the next poll reports it (RDHUP).
                n = Native.splice(sourceFd.intValue(), -1, pipeIn.intValue(), -1, CHUNK);
            } catch (IOException e) {
                session.failed(fromClient, e);
                return;
            }
            inPipe += n;
            if (drain()) {
                armIn();
            }
        }

        /** The sink's poll fired: move what waits, then resume reading (or let Netty go on). */
        void writable() {
            if (!drain() || !flush()) {
                return; // the sink is still full, or failed
            }
            cancelOut();
            if (!handedOver) {
                armIn();
            }
        }

        /**
         * Moves the pipe's bytes to the sink. False if they could not all go: the sink is full (a
         * POLLOUT is armed) or failed (the session is ending).
         */
        private boolean drain() {
            while (inPipe > 0) {
                int n;
                try {
                    n = Native.splice(pipeOut.intValue(), -1, sinkFd.intValue(), -1, inPipe);
                } catch (IOException e) {
                    session.failed(!fromClient, e);
                    return false;
                }
                if (n == 0) {
                    armOut();
                    return false;
                }
                inPipe -= n;
                session.relayed(fromClient, n);
                session.spliced(fromClient, n);
            }
            return true;
        }

        void queue(ByteBuf data) {
            handedOver = true;
            if (stopped) {
                data.release();
                return;
            }
            pending.add(data);
            if (active && pollOut == 0) {
                writable();
            }
        }

        void queueEof() {
            handedOver = true;
            eofPending = true;
            if (active && pollOut == 0 && !stopped) {
                writable();
            }
        }

        /**
         * Writes what Netty read, in order, once the pipe is empty; then passes the EOF on. False
         * if the sink is full (a POLLOUT is armed) or failed.
         */
        private boolean flush() {
            while (!pending.isEmpty()) {
                ByteBuf head = pending.peek();
                int n;
                try {
                    n = write(head);
                } catch (IOException e) {
                    session.failed(!fromClient, e);
                    return false;
                }
                head.skipBytes(n);
                if (head.isReadable()) {
                    armOut();
                    return false;
                }
                pending.remove().release();
            }
            if (eofPending) {
                eofPending = false;
                session.inputShutdown(fromClient);
            } else if (handedOver) {
                RelayHandler.readMore(source);
            }
            return true;
        }

        /** A non-blocking write(2): the bytes taken, 0 if the sink is full. */
        private int write(ByteBuf data) throws IOException {
            if (data.hasMemoryAddress()) {
                return sinkFd.writeAddress(data.memoryAddress(), data.readerIndex(), data.writerIndex());
            }
            if (data.isDirect() && data.nioBufferCount() == 1) {
                java.nio.ByteBuffer nio = data.internalNioBuffer(data.readerIndex(), data.readableBytes());
                return sinkFd.write(nio, nio.position(), nio.limit());
            }
            // Netty's io_uring reads fill direct buffers; anything else goes through a direct copy.
            ByteBuf direct = data.alloc().directBuffer(data.readableBytes()).writeBytes(data, data.readerIndex(),
                    data.readableBytes());
            try {
                return write(direct);
            } finally {
                direct.release();
            }
        }

        void release() {
            pending.forEach(ByteBuf::release);
            pending.clear();
            if (registration != null) {
                if (pollIn != 0) {
                    cancel(pollIn);
                }
                cancelOut();
            }
            if (pipeOut != null) {
                closeQuietly(pipeOut);
                closeQuietly(pipeIn);
            }
        }
    }

    private static void nonBlocking(FileDescriptor fd) throws IOException {
        try {
            CONFIGURE_BLOCKING.invokeExact((java.io.FileDescriptor) NEW_FD.invokeExact(fd.intValue()), false);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException(e);
        }
    }

    private static void closeQuietly(FileDescriptor fd) {
        try {
            fd.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
