package dev.wharf.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.wharf.metrics.WharfMetrics;
import dev.wharf.server.WharfServer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Answers the admin endpoints; runs on the admin event loop, away from the relay. */
@ChannelHandler.Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);
    private static final String JSON = "application/json; charset=utf-8";
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

    private final WharfServer server;
    private final WharfMetrics metrics;
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    AdminHandler(WharfServer server, WharfMetrics metrics) {
        this.server = server;
        this.metrics = metrics;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) throws JsonProcessingException {
        if (!request.decoderResult().isSuccess()) {
            respond(ctx, request, HttpResponseStatus.BAD_REQUEST, TEXT, "malformed request\n", false);
            return;
        }
        if (!HttpMethod.GET.equals(request.method()) && !HttpMethod.HEAD.equals(request.method())) {
            respond(ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, TEXT, "only GET and HEAD\n", true);
            return;
        }
        String path = new QueryStringDecoder(request.uri()).path();
        switch (path) {
            case "/healthz" -> status(ctx, request, server.alive(), "ok\n", "event loops stopped\n");
            case "/readyz" -> status(ctx, request, server.ready(), "ready\n", "not ready\n");
            case "/metrics" -> respond(ctx, request, HttpResponseStatus.OK, PROMETHEUS, metrics.scrape(), true);
            case "/config" -> respond(ctx, request, HttpResponseStatus.OK, JSON,
                    json.writeValueAsString(AdminViews.config(server.current())), true);
            case "/upstreams" -> respond(ctx, request, HttpResponseStatus.OK, JSON,
                    json.writeValueAsString(AdminViews.upstreams(server.listeners(), server.nodePorts())), true);
            default -> respond(ctx, request, HttpResponseStatus.NOT_FOUND, JSON,
                    json.writeValueAsString(Map.of("error", "no such endpoint: " + path,
                            "endpoints", AdminViews.ENDPOINTS)), true);
        }
    }

    private static void status(ChannelHandlerContext ctx, FullHttpRequest request, boolean ok, String yes, String no) {
        respond(ctx, request, ok ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, TEXT, ok ? yes : no, true);
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                                String contentType, String body, boolean keepAlive) {
        ByteBuf content = HttpMethod.HEAD.equals(request.method())
                ? ctx.alloc().buffer(0)
                : ByteBufUtil.writeUtf8(ctx.alloc(), body);
        FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(), status, content);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, HttpMethod.HEAD.equals(request.method())
                        ? ByteBufUtil.utf8Bytes(body) : content.readableBytes());
        boolean keep = keepAlive && HttpUtil.isKeepAlive(request);
        HttpUtil.setKeepAlive(response, keep);
        var written = ctx.writeAndFlush(response);
        if (!keep) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("admin connection error from {}", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }
}
