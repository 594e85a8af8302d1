package dev.wharf.relay;

import dev.wharf.config.ListenerConfig;
import dev.wharf.protocol.ProtocolViolation;
import dev.wharf.upstream.EndpointState;
import dev.wharf.upstream.UpstreamSession;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One client connection and its upstream connection. Everything here runs on the client
 * channel's event loop, which the upstream channel shares, so the fields need no locking;
 * {@link #close} is the one entry point for other threads.
 */
public final class Session implements UpstreamSession, ListenerSession {
    private static final Logger ACCESS = LoggerFactory.getLogger("wharf.access");
    private static final Logger LOG = LoggerFactory.getLogger(Session.class);
    /** A read loop this large means a bulk transfer, which splice moves more cheaply than copies. */
    private static final int SPLICE_BATCH = 128 * 1024;
    private static final String CODEC = "protocol";

    private final ListenerState listener;
    private final ListenerConfig config;
    private final Channel client;
    private final InetSocketAddress source;
    /** The trusted proxy that named {@link #source} in a PROXY header, or null if there was none. */
    private final InetSocketAddress proxy;
    private final long startNanos = System.nanoTime();
    private Channel upstream;
    private EndpointState endpoint;
    private long bytesToUpstream;
    private long bytesToClient;
    private CompositeByteBuf early;
    private boolean earlyEof;
    private CloseReason firstEof;
    private int directionsDone;
    private CloseReason reason;
    private IdleTimer idle;
    private Splicer splicer;
    /** The protocol mode's handlers, or null for plain TCP. */
    private final SessionCodec codec;

    Session(ListenerState listener, Channel client, InetSocketAddress source, InetSocketAddress proxy) {
        this.listener = listener;
        this.config = listener.config();
        this.client = client;
        this.source = source;
        this.proxy = proxy;
        this.codec = listener.newCodec();
    }

    @Override
    public InetSocketAddress source() {
        return source;
    }

    /**
     * Starts relaying; {@code early} (or null) holds the bytes that came right behind a PROXY
     * header, which go through the pipeline like any later read.
     */
    void start(ByteBuf early) {
        if (codec != null) {
            client.pipeline().addLast(CODEC, codec.client());
        }
        client.pipeline().addLast(RelayHandler.NAME, new RelayHandler(this, true));
        client.closeFuture().addListener(f -> ended());
        idle = listener.track(this, client, source.getAddress(), config.idleTimeout());
        if (early != null) {
            client.pipeline().fireChannelRead(early);
        }
        connect(listener.pool().candidates(), 0);
    }

    private void connect(List<EndpointState> candidates, int attempt) {
        if (!client.isActive()) {
            return;
        }
        if (attempt >= candidates.size()) {
            listener.metrics().upstreamUnavailable.increment();
            closeBoth(CloseReason.UPSTREAM_UNAVAILABLE);
            return;
        }
        EndpointState candidate = candidates.get(attempt);
        listener.connect(client.eventLoop(), candidate, new RelayHandler(this, false))
                .addListener((ChannelFuture f) -> {
                    if (f.isSuccess()) {
                        connected(f.channel(), candidates, attempt);
                    } else {
                        connect(candidates, attempt + 1);
                    }
                });
    }

    private void connected(Channel channel, List<EndpointState> candidates, int attempt) {
        if (!client.isActive() || reason != null) {
            channel.close();
            return;
        }
        EndpointState candidate = candidates.get(attempt);
        // Registered before its health is read, so that a check marking it down now either sees
        // this session to close or is seen here.
        candidate.sessionOpened(this);
        if (candidate.health() == EndpointState.Health.DOWN && listener.pool().closesSessionsWhenDown()) {
            // Marked down while connecting (a primary being demoted): nothing was sent, try the next.
            candidate.sessionClosed(this);
            channel.close();
            connect(candidates, attempt + 1);
            return;
        }
        upstream = channel;
        endpoint = candidate;
        if (codec != null) {
            // Only now: a connect that failed over to another endpoint must not have used the handler.
            upstream.pipeline().addFirst(CODEC, codec.upstream());
        }
        if (early != null) {
            upstream.writeAndFlush(early, upstream.voidPromise());
            early = null;
        }
        if (earlyEof) {
            inputShutdown(true);
        } else {
            client.read();
        }
        upstream.read();
    }

    /**
     * A direction that just moved a bulk-sized batch (one read loop of {@code batchBytes}) is
     * handed to the splicer, as HAProxy's splice-auto does: small exchanges keep the cheaper
     * heap path, bulk transfers stop copying. True if the splicer took it; the caller must then
     * not ask Netty to read that side again.
     */
    boolean spliceFrom(boolean clientSide, int batchBytes) {
        if (batchBytes < SPLICE_BATCH || !config.splice() || codec != null || upstream == null || reason != null) {
            return false;
        }
        if (splicer == null) {
            if (!Splicer.supported(client, upstream)) {
                return false;
            }
            splicer = Splicer.create(this, client, upstream);
        }
        splicer.take(clientSide);
        return true;
    }

    /** The splicer could not register with the event loop, which happens only when it is shutting down. */
    void spliceFailed(Throwable cause) {
        LOG.debug("splice did not start on listener {}", listener.name(), cause);
        closeBoth(CloseReason.SHUTDOWN);
    }

    /** Whether the splicer owns the direction read from that side: Netty must not be asked to read it. */
    boolean splicing(boolean clientSide) {
        return splicer != null && splicer.owns(clientSide);
    }

    /** What Netty reads from a spliced direction's source (the end of its stream) goes to the splicer. */
    boolean toSplicer(boolean clientSide, ByteBuf data) {
        if (!splicing(clientSide)) {
            return false;
        }
        splicer.handedOver(clientSide, data);
        return true;
    }

    boolean eofToSplicer(boolean clientSide) {
        if (!splicing(clientSide)) {
            return false;
        }
        splicer.eofHandedOver(clientSide);
        return true;
    }

    /**
     * Keeps bytes the client sent before the upstream connected. Auto-read is off, but epoll reads
     * anyway when the client half-closes (EPOLLRDHUP), so a fast "send and shut down" client
     * lands here; at most one read loop's worth. So do the bytes a client sent right behind its
     * PROXY header.
     */
    void holdUntilConnected(ByteBuf data) {
        if (early == null) {
            early = client.alloc().compositeBuffer();
        }
        early.addComponent(true, data);
    }

    Channel peer(boolean clientSide) {
        return clientSide ? upstream : client;
    }

    void spliced(boolean fromClient, int bytes) {
        (fromClient ? listener.metrics().splicedToUpstream : listener.metrics().splicedToClient).increment(bytes);
    }

    void relayed(boolean fromClient, int bytes) {
        idle.touch();
        if (fromClient) {
            bytesToUpstream += bytes;
            listener.metrics().bytesToUpstream.increment(bytes);
        } else {
            bytesToClient += bytes;
            listener.metrics().bytesToClient.increment(bytes);
        }
    }

    /**
     * One side sent EOF: pass it on once everything before it is written, and keep the other
     * direction open. The session ends when both directions have delivered their EOF.
     */
    void inputShutdown(boolean clientSide) {
        if (clientSide && upstream == null) {
            earlyEof = true;
            return;
        }
        if (firstEof == null) {
            firstEof = clientSide ? CloseReason.CLIENT_CLOSED : CloseReason.UPSTREAM_CLOSED;
        }
        Channel to = peer(clientSide);
        to.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFuture flushed) -> {
            if (flushed.isSuccess() && to instanceof DuplexChannel duplex) {
                duplex.shutdownOutput().addListener(shut -> {
                    if (++directionsDone == 2) {
                        closeBoth(firstEof);
                    }
                });
            }
        });
    }

    /** One side's connection is gone: flush what the other side still has to receive, then close it. */
    void closed(boolean clientSide) {
        setReason(clientSide ? CloseReason.CLIENT_CLOSED : CloseReason.UPSTREAM_CLOSED);
        stopSplicing();
        Channel other = peer(clientSide);
        if (other != null && other.isActive()) {
            other.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    void failed(boolean clientSide, Throwable cause) {
        ProtocolViolation violation = violation(cause);
        if (violation != null) {
            listener.metrics().protocolError(clientSide ? "client" : "upstream");
            LoggingEventBuilder event = listener.protocolErrorLog.atWarn(LOG);
            if (event != null) {
                event.addKeyValue("listener", listener.name()).addKeyValue("source", format(source))
                        .addKeyValue("upstream", endpoint == null ? "-" : endpoint.id())
                        .log("closing the session: malformed {} from the {}: {}", config.protocol().configName(),
                                clientSide ? "client" : "upstream", violation.getMessage());
            }
            closeBoth(CloseReason.PROTOCOL_ERROR);
            return;
        }
        LOG.debug("session error on the {} side of listener {}", clientSide ? "client" : "upstream", listener.name(), cause);
        closeBoth(clientSide ? CloseReason.CLIENT_ERROR : CloseReason.UPSTREAM_ERROR);
    }

    /** The protocol violation behind {@code cause} (decoders wrap what they throw), or null. */
    private static ProtocolViolation violation(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof ProtocolViolation v) {
                return v;
            }
        }
        return null;
    }

    @Override
    public void endpointDown(EndpointState down) {
        client.eventLoop().execute(() -> {
            if (endpoint == down) {
                closeBoth(CloseReason.UPSTREAM_UNHEALTHY);
            }
        });
    }

    /** Ends the session from any thread, e.g. when its source loses access. */
    @Override
    public void close(CloseReason why) {
        client.eventLoop().execute(() -> closeBoth(why));
    }

    private void closeBoth(CloseReason why) {
        setReason(why);
        stopSplicing();
        client.close();
        if (upstream != null) {
            upstream.close();
        }
    }

    /** The sockets are closing: polls must not keep them open, nor splices touch their fds. */
    private void stopSplicing() {
        if (splicer != null) {
            splicer.stop();
        }
    }

    private void setReason(CloseReason why) {
        if (reason == null) {
            reason = why;
        }
    }

    /** Runs once, when the client channel has closed: release everything and write the access log. */
    private void ended() {
        stopSplicing();
        if (early != null) {
            early.release();
            early = null;
        }
        if (upstream != null) {
            upstream.close();
        }
        if (endpoint != null) {
            endpoint.sessionClosed(this);
        }
        long durationNanos = System.nanoTime() - startNanos;
        setReason(CloseReason.CLIENT_CLOSED);
        LoggingEventBuilder log = ACCESS.atInfo()
                .addKeyValue("listener", listener.name())
                .addKeyValue("source", format(source));
        if (proxy != null) {
            log = log.addKeyValue("proxy", format(proxy));
        }
        log
                .addKeyValue("upstream", endpoint == null ? "-" : endpoint.id())
                .addKeyValue("bytes_to_upstream", bytesToUpstream)
                .addKeyValue("bytes_to_client", bytesToClient)
                .addKeyValue("duration_ms", TimeUnit.NANOSECONDS.toMillis(durationNanos))
                .addKeyValue("reason", reason.label())
                .log("session closed");
    }

    public static String format(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        return NetUtil.toSocketAddressString(host, address.getPort());
    }
}
