package dev.wharf.protocol.http;

import dev.wharf.config.HttpSettings;
import dev.wharf.config.ListenerConfig;
import dev.wharf.relay.CloseReason;
import dev.wharf.relay.IdleTimer;
import dev.wharf.relay.LogText;
import dev.wharf.relay.ListenerSession;
import dev.wharf.relay.ListenerState;
import dev.wharf.relay.Session;
import dev.wharf.upstream.EndpointState;
import dev.wharf.upstream.UpstreamSession;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One client connection of an http listener, and the last handler of its pipeline. Requests are
 * answered one at a time, in order: while a request is in flight the client is read only for that
 * request's body, so pipelined requests wait in the socket (or, for what one read already
 * decoded, in {@link #held}) until the response before them is complete. Each request picks its
 * endpoint from the pool's candidates and takes an idle connection to it from this event loop's
 * {@link UpstreamConnections}, or opens one.
 *
 * <p>Bodies stream: each HttpContent goes on as it comes. Backpressure is the relay's rule, per
 * direction: the client is read (for a request body) only while the upstream is writable, the
 * upstream (for a response) only while the client is writable, and each side's writability
 * change resumes the other side's reads.
 *
 * <p>Everything runs on the client channel's event loop, which its upstream connections share.
 */
final class HttpSession extends ChannelInboundHandlerAdapter implements ListenerSession, UpstreamSession {
    static final String CODEC = "httpCodec";
    static final String NAME = "httpFrontend";
    private static final Logger ACCESS = LoggerFactory.getLogger("wharf.access");
    private static final Logger LOG = LoggerFactory.getLogger(HttpSession.class);
    private static final int MAX_LOGGED_PATH = 256;
    /** Upstream response heads may be larger than what clients are allowed to send. */
    private static final int UPSTREAM_MAX_HEADER_SIZE = 64 * 1024;

    private final ListenerState listener;
    private final HttpFrontend frontend;
    private final ListenerConfig config;
    private final Channel client;
    private final InetSocketAddress source;
    private final InetSocketAddress proxy;
    /** Decoded client messages not yet taken: a pipelined request waits here for its turn. */
    private final ArrayDeque<HttpObject> held = new ArrayDeque<>();
    private Exchange current;
    private IdleTimer idle;
    private boolean clientEof;
    private boolean closing;
    /** The listener is draining: the exchange in progress is the last, and its response says so. */
    private boolean draining;

    HttpSession(ListenerState listener, HttpFrontend frontend, Channel client, InetSocketAddress source,
                InetSocketAddress proxy) {
        this.listener = listener;
        this.frontend = frontend;
        this.config = listener.config();
        this.client = client;
        this.source = source;
        this.proxy = proxy;
    }

    void start(ByteBuf early, boolean eof) {
        HttpSettings http = config.http();
        client.pipeline().addLast(CODEC, new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(http.maxInitialLine())
                .setMaxHeaderSize(http.maxHeaderSize())));
        client.pipeline().addLast(NAME, this);
        client.closeFuture().addListener(f -> ended());
        idle = listener.track(this, client, source.getAddress(), config.idleTimeout());
        clientEof = eof;
        if (early != null) {
            client.pipeline().fireChannelRead(early);
            client.pipeline().fireChannelReadComplete();
        } else {
            readClientIfReady();
        }
        if (clientEof && current == null && held.isEmpty()) {
            closeNow(CloseReason.CLIENT_CLOSED);
        }
    }

    @Override
    public InetSocketAddress source() {
        return source;
    }

    @Override
    public void close(CloseReason why) {
        client.eventLoop().execute(() -> closeNow(why));
    }

    /** Idle: closed now. Busy: the response in progress carries {@code Connection: close} and ends the connection. */
    @Override
    public void drain() {
        client.eventLoop().execute(() -> {
            draining = true;
            if (current == null && held.isEmpty()) {
                closeNow(CloseReason.DRAINED);
            }
        });
    }

    @Override
    public void endpointDown(EndpointState down) {
        client.eventLoop().execute(() -> {
            if (current != null && current.endpoint == down) {
                closeNow(CloseReason.UPSTREAM_UNHEALTHY);
            }
        });
    }

    // ---- the client side

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        idle.touch();
        if (closing || !(msg instanceof HttpObject object)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        held.add(object);
        takeHeld();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (current != null && current.upstream != null) {
            current.upstream.flush();
        }
        readClientIfReady();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && current != null && current.upstream != null && current.awaitingResponse()) {
            current.upstream.read();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            clientEof = true;
            if (current == null && held.isEmpty()) {
                closeNow(CloseReason.CLIENT_CLOSED);
            } else if (current != null && current.requestOpen) {
                // The body will never be complete.
                closeNow(CloseReason.CLIENT_CLOSED);
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("http session error on the client side of listener {}", listener.name(), cause);
        closeNow(CloseReason.CLIENT_ERROR);
    }

    /** Feeds held messages to the exchange they belong to, starting the next request when none is in flight. */
    private void takeHeld() {
        boolean wrote = false;
        while (!held.isEmpty() && !closing) {
            if (current == null) {
                HttpObject next = held.poll();
                if (next instanceof HttpRequest request) {
                    begin(request);
                } else {
                    // The rest of a request already answered (an error that closes the connection).
                    ReferenceCountUtil.release(next);
                }
            } else if (current.requestOpen && current.headWritten && held.peek() instanceof HttpContent) {
                current.body((HttpContent) held.poll());
                wrote = true;
            } else {
                break;
            }
        }
        if (wrote && current != null && current.upstream != null) {
            current.upstream.flush();
        }
    }

    /**
     * Asks the client for more only when it can be taken: no request in flight (the next one may
     * come), or the current request's body is wanted and the upstream can take it.
     */
    private void readClientIfReady() {
        if (closing || !held.isEmpty() || clientEof) {
            return;
        }
        if (current == null || current.requestOpen && current.headWritten && current.upstream.isWritable()) {
            client.read();
        }
    }

    private void begin(HttpRequest request) {
        DecoderResult result = request.decoderResult();
        HttpSettings http = listener.config().http();
        if (result.isFailure()) {
            Throwable cause = result.cause();
            HttpErrors error = cause instanceof TooLongHttpLineException ? HttpErrors.URI_TOO_LONG
                    : cause instanceof TooLongHttpHeaderException ? HttpErrors.HEADERS_TOO_LARGE : HttpErrors.BAD_REQUEST;
            ReferenceCountUtil.release(request);
            refuse(request, error, error == HttpErrors.BAD_REQUEST ? "malformed request: " + cause.getMessage()
                    : error == HttpErrors.URI_TOO_LONG ? "request line longer than " + http.maxInitialLine() + " bytes"
                    : "request headers larger than " + http.maxHeaderSize() + " bytes");
            return;
        }
        if (request.headers().size() > http.maxHeaders()) {
            refuse(request, HttpErrors.HEADERS_TOO_LARGE, "more than " + http.maxHeaders() + " request header fields");
            return;
        }
        if (HttpMethod.CONNECT.equals(request.method())) {
            refuse(request, HttpErrors.METHOD_NOT_ALLOWED, "CONNECT is not proxied");
            return;
        }
        current = new Exchange(request, http);
        current.acquire();
    }

    /** Answers a request Wharf will not forward, then closes: its body (if any) is not read. */
    private void refuse(HttpRequest request, HttpErrors error, String reason) {
        Exchange refused = new Exchange(request, listener.config().http());
        current = refused;
        refused.requestOpen = false;
        refused.fail(error, reason, true);
    }

    private void closeNow(CloseReason why) {
        if (!closing) {
            closing = true;
            LOG.debug("closing http session on listener {}: {}", listener.name(), why.label());
        }
        client.close();
    }

    /** Runs once, when the client channel has closed. */
    private void ended() {
        closing = true;
        held.forEach(ReferenceCountUtil::release);
        held.clear();
        if (current != null) {
            current.abort();
        }
    }

    // ---- the upstream side, called by UpstreamHandler

    void upstreamRead(Channel channel, Object msg) {
        if (current == null || current.upstream != channel) {
            ReferenceCountUtil.release(msg);
            return;
        }
        current.response((HttpObject) msg);
    }

    void upstreamReadComplete(Channel channel) {
        if (current != null && current.upstream == channel) {
            client.flush();
            if (client.isWritable() && current != null && current.awaitingResponse()) {
                channel.read();
            }
        }
    }

    void upstreamWritable(Channel channel) {
        if (current != null && current.upstream == channel) {
            readClientIfReady();
        }
    }

    /** The upstream connection closed, hit EOF or failed while it carried the current request. */
    void upstreamEnded(Channel channel, Throwable cause) {
        if (current != null && current.upstream == channel) {
            current.upstreamLost(cause);
        }
    }

    /** One request and its response. */
    private final class Exchange {
        private final HttpRequest request;
        private final HttpSettings http;
        private final String method;
        private final long startNanos = System.nanoTime();
        private final boolean keepAlive;
        private final boolean expectContinue;
        private HttpRequest outgoing;
        private List<EndpointState> candidates = List.of();
        private int attempt;
        private int retries;
        EndpointState endpoint;
        Channel upstream;
        boolean headWritten;
        boolean requestOpen = true;
        private boolean responseStarted;
        private boolean responseDone;
        private boolean upstreamReusable;
        private boolean skippingInformational;
        private boolean closeClientAfter;
        private int status;
        private long bytesIn;
        private long bytesOut;
        private ScheduledFuture<?> responseTimeout;

        Exchange(HttpRequest request, HttpSettings http) {
            this.request = request;
            this.http = http;
            this.method = request.method().name();
            this.keepAlive = HttpUtil.isKeepAlive(request);
            this.expectContinue = HttpUtil.is100ContinueExpected(request);
        }

        boolean awaitingResponse() {
            return headWritten && !responseDone;
        }

        void acquire() {
            String authorization = null;
            if (http.authorizationFile() != null) {
                authorization = frontend.authorization(http);
                if (authorization == null) {
                    fail(HttpErrors.BAD_GATEWAY, "the authorization-file cannot be read", false);
                    return;
                }
            }
            outgoing = outgoing(authorization);
            candidates = listener.pool().candidates();
            if (candidates.isEmpty()) {
                fail(HttpErrors.SERVICE_UNAVAILABLE, "no healthy upstream endpoint", false);
                return;
            }
            tryEndpoint();
        }

        /** The request as it goes upstream: HTTP/1.1, hop-by-hop fields gone, the proxy's fields added. */
        private HttpRequest outgoing(String authorization) {
            HttpHeaders headers = new DefaultHttpHeaders();
            headers.set(request.headers());
            ProxyHeaders.stripHopByHop(headers);
            // Wharf answers 100 Continue itself once an upstream connection is ready (as nginx does).
            headers.remove(HttpHeaderNames.EXPECT);
            ProxyHeaders.addForwarded(headers, source);
            if (!http.hostHeader().isEmpty()) {
                headers.set(HttpHeaderNames.HOST, http.hostHeader());
            }
            if (authorization != null) {
                headers.set(HttpHeaderNames.AUTHORIZATION, authorization);
            }
            return new DefaultHttpRequest(HttpVersion.HTTP_1_1, request.method(), request.uri(), headers);
        }

        /** Sends the head to candidates[attempt]: an idle connection of this loop, or a new one. */
        private void tryEndpoint() {
            if (closing) {
                return;
            }
            if (attempt >= candidates.size()) {
                fail(HttpErrors.BAD_GATEWAY, "no upstream endpoint could be reached (" + candidates.size()
                        + " tried)", false);
                return;
            }
            EndpointState candidate = candidates.get(attempt);
            Channel idle = frontend.connections().poll(client.eventLoop(), candidate);
            if (idle != null) {
                send(idle, candidate);
                return;
            }
            listener.connect(client.eventLoop(), candidate, new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(CODEC, new HttpClientCodec(new HttpDecoderConfig()
                            .setMaxHeaderSize(Math.max(UPSTREAM_MAX_HEADER_SIZE, http.maxHeaderSize())), false, false));
                    ch.pipeline().addLast(UpstreamHandler.NAME, new UpstreamHandler());
                }
            }).addListener((ChannelFuture f) -> {
                if (!f.isSuccess()) {
                    nothingWritten("connect to " + candidate.id() + " failed");
                } else if (current != this || closing) {
                    f.channel().close();
                } else {
                    send(f.channel(), candidate);
                }
            });
        }

        /**
         * The request's connection failed before any byte of it was written. Only here is a request
         * retried, and only for an idempotent method or one in retry-methods: a POST such as an
         * OpenSearch _bulk is never sent twice, because once its head is written this path is closed
         * (headWritten) and every later failure answers 502 or closes the client.
         */
        private void nothingWritten(String what) {
            if (current != this || closing) {
                return;
            }
            if (!http.retries(method)) {
                fail(HttpErrors.BAD_GATEWAY, what + "; " + method + " is not retried", false);
                return;
            }
            attempt++;
            if (attempt < candidates.size()) {
                retries++;
            }
            tryEndpoint();
        }

        /** Callers have checked that this exchange is still the session's and the session open. */
        private void send(Channel channel, EndpointState candidate) {
            UpstreamHandler handler = UpstreamHandler.of(channel);
            handler.attach(HttpSession.this);
            upstream = channel;
            endpoint = candidate;
            candidate.sessionOpened(HttpSession.this);
            // The head alone first: if it cannot be written (a pooled connection the upstream closed),
            // nothing of the request went out and it may be retried with the body still unread.
            channel.writeAndFlush(outgoing).addListener((ChannelFuture f) -> {
                if (current != this || closing) {
                    return;
                }
                if (!f.isSuccess()) {
                    upstreamLost(f.cause()); // head not written: nothing went out, so it may be retried
                    return;
                }
                headWritten = true;
                if (expectContinue) {
                    client.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
                }
                channel.read();
                takeHeld();
                readClientIfReady();
            });
        }

        void body(HttpContent content) {
            if (content.decoderResult().isFailure()) {
                String why = "malformed request body: " + content.decoderResult().cause().getMessage();
                content.release();
                requestOpen = false;
                upstreamReusable = false;
                if (responseStarted) {
                    closeNow(CloseReason.PROTOCOL_ERROR);
                } else {
                    fail(HttpErrors.BAD_REQUEST, why, true);
                }
                return;
            }
            int bytes = content.content().readableBytes();
            bytesIn += bytes;
            listener.metrics().bytesToUpstream.increment(bytes);
            if (content instanceof LastHttpContent) {
                requestOpen = false;
                upstream.write(content).addListener((ChannelFuture f) -> {
                    if (f.isSuccess() && current == this && !responseStarted && !responseDone) {
                        startResponseTimeout();
                    }
                });
            } else {
                upstream.write(content, upstream.voidPromise());
            }
        }

        private void startResponseTimeout() {
            responseTimeout = client.eventLoop().schedule(() -> {
                if (current == this && !responseStarted) {
                    upstreamReusable = false;
                    fail(HttpErrors.GATEWAY_TIMEOUT, "no response from " + endpoint.id() + " within "
                            + http.responseTimeout().toMillis() + " ms", false);
                }
            }, http.responseTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }

        void response(HttpObject msg) {
            idle.touch();
            if (msg instanceof HttpResponse response) {
                if (response.decoderResult().isFailure()) {
                    ReferenceCountUtil.release(msg);
                    upstreamLost(response.decoderResult().cause());
                    return;
                }
                if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                    // 100 Continue is Wharf's own to send; other interim responses are not passed on.
                    skippingInformational = response.status().code() != 101;
                    ReferenceCountUtil.release(msg);
                    if (!skippingInformational) {
                        upstreamLost(new IllegalStateException("upstream switched protocols"));
                    }
                    return;
                }
                responseHead(response);
            }
            if (msg instanceof HttpContent content) {
                if (skippingInformational) {
                    skippingInformational = !(content instanceof LastHttpContent);
                    content.release();
                    return;
                }
                if (content.decoderResult().isFailure()) {
                    content.release();
                    upstreamLost(content.decoderResult().cause());
                    return;
                }
                int bytes = content.content().readableBytes();
                bytesOut += bytes;
                listener.metrics().bytesToClient.increment(bytes);
                if (content instanceof LastHttpContent) {
                    client.writeAndFlush(content);
                    responseComplete();
                } else {
                    client.write(content, client.voidPromise());
                }
            }
        }

        private void responseHead(HttpResponse response) {
            if (responseTimeout != null) {
                responseTimeout.cancel(false);
            }
            responseStarted = true;
            status = response.status().code();
            HttpHeaders headers = new DefaultHttpHeaders();
            headers.set(response.headers());
            boolean upstreamKeepAlive = HttpUtil.isKeepAlive(response);
            ProxyHeaders.stripHopByHop(headers);
            boolean bodyless = HttpMethod.HEAD.equals(request.method()) || status == 204 || status == 304;
            boolean framed = bodyless || headers.contains(HttpHeaderNames.CONTENT_LENGTH) || HttpUtil.isTransferEncodingChunked(response);
            // A body that ends with the upstream's connection cannot share the connection afterwards.
            upstreamReusable = upstreamKeepAlive && framed;
            boolean http10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
            if (!framed) {
                if (http10) {
                    closeClientAfter = true;
                } else {
                    headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                }
            } else if (http10 && HttpUtil.isTransferEncodingChunked(response)) {
                // HTTP/1.0 has no chunks: the body goes raw and its end is the connection's.
                headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
                closeClientAfter = true;
            }
            if (!keepAlive || clientEof || draining) {
                closeClientAfter = true;
            }
            if (closeClientAfter) {
                headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            } else if (http10) {
                headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            client.write(new DefaultHttpResponse(request.protocolVersion(), response.status(), headers), client.voidPromise());
        }

        private void responseComplete() {
            responseDone = true;
            if (requestOpen) {
                // The upstream answered before the whole body arrived: neither connection has a clean boundary now.
                upstreamReusable = false;
                closeClientAfter = true;
            }
            finish();
            // Draining that began after this response's head went out (without Connection: close):
            // the response is complete, so the connection ends here all the same.
            if (closeClientAfter || draining) {
                client.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                closing = true;
                return;
            }
            takeHeld();
            readClientIfReady();
        }

        /** The upstream connection is gone, or sent something that is not HTTP, before the response was complete. */
        void upstreamLost(Throwable cause) {
            upstreamReusable = false;
            if (!headWritten) {
                // Closed before the head's write completed: nothing of the request went out.
                UpstreamHandler.of(upstream).detach();
                endpoint.sessionClosed(HttpSession.this);
                upstream.close();
                String id = endpoint.id();
                upstream = null;
                endpoint = null;
                nothingWritten("the connection to " + id + " was closed");
                return;
            }
            if (responseStarted) {
                // Part of the response is out: only closing the client tells it the rest will not come.
                LOG.debug("upstream {} ended mid-response on listener {}", endpoint.id(), listener.name(), cause);
                finish();
                closeNow(CloseReason.UPSTREAM_CLOSED);
                return;
            }
            fail(HttpErrors.BAD_GATEWAY, "upstream " + endpoint.id() + (cause == null ? " closed the connection"
                    : " failed: " + cause.getClass().getSimpleName()) + " before a complete response head", false);
        }

        /**
         * Answers with Wharf's own error. The client connection stays open only when the whole
         * request was read and the client wants keep-alive; {@code close} forces it closed.
         */
        void fail(HttpErrors error, String reason, boolean close) {
            if (responseStarted) {
                finish();
                closeNow(CloseReason.UPSTREAM_ERROR);
                return;
            }
            responseStarted = true;
            responseDone = true;
            upstreamReusable = false;
            status = error.status.code();
            if (requestOpen && !headWritten) {
                requestOpen = !swallowHeldBody();
            }
            closeClientAfter = close || requestOpen || !keepAlive || clientEof || draining;
            finish();
            ChannelFuture written = client.writeAndFlush(error.response(client.alloc(), reason, closeClientAfter));
            if (closeClientAfter) {
                closing = true;
                written.addListener(ChannelFutureListener.CLOSE);
                return;
            }
            takeHeld();
            readClientIfReady();
        }

        /**
         * Drops the rest of a request that was not forwarded, if the client already sent all of it
         * (a request without a body is followed by an empty last chunk); true if it had.
         */
        private boolean swallowHeldBody() {
            while (held.peek() instanceof HttpContent content) {
                held.poll();
                boolean last = content instanceof LastHttpContent && content.decoderResult().isSuccess();
                content.release();
                if (last) {
                    return true;
                }
            }
            return false;
        }

        /** The client connection closed mid-exchange. */
        void abort() {
            upstreamReusable = false;
            finish();
        }

        /** Ends the exchange once: gives back or closes the upstream connection, counts and logs it. */
        private void finish() {
            if (current != this) {
                return;
            }
            current = null;
            if (responseTimeout != null) {
                responseTimeout.cancel(false);
            }
            if (upstream != null) {
                UpstreamHandler.of(upstream).detach();
                endpoint.sessionClosed(HttpSession.this);
                if (upstreamReusable && !requestOpen && responseDone) {
                    frontend.connections().offer(endpoint, upstream, http.maxIdlePerEndpoint(), http.poolIdleTimeout());
                } else {
                    upstream.close();
                }
            }
            long nanos = System.nanoTime() - startNanos;
            if (status > 0 && responseDone) {
                listener.metrics().httpRequest(method, status, nanos);
            }
            LoggingEventBuilder log = ACCESS.atInfo()
                    .addKeyValue("listener", listener.name())
                    .addKeyValue("source", Session.format(source));
            if (proxy != null) {
                log = log.addKeyValue("proxy", Session.format(proxy));
            }
            log.addKeyValue("method", printable(method))
                    .addKeyValue("path", path(request.uri()))
                    .addKeyValue("status", responseDone ? status : 0)
                    .addKeyValue("bytes_in", bytesIn)
                    .addKeyValue("bytes_out", bytesOut)
                    .addKeyValue("duration_ms", TimeUnit.NANOSECONDS.toMillis(nanos))
                    .addKeyValue("upstream", endpoint == null ? "-" : endpoint.id())
                    .addKeyValue("retries", retries)
                    .log("http request");
        }
    }

    /** The path without its query (queries may carry secrets) or fragment, one short printable line. */
    static String path(String uri) {
        int end = uri.length();
        int query = uri.indexOf('?');
        if (query >= 0) {
            end = query;
        }
        int fragment = uri.indexOf('#');
        if (fragment >= 0 && fragment < end) {
            end = fragment;
        }
        return printable(uri.substring(0, end));
    }

    private static String printable(String text) {
        return LogText.printable(text, MAX_LOGGED_PATH);
    }
}
