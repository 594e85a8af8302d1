package dev.wharf.relay;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import java.util.Map;

/** The socket options of both sides of a relayed session, in one place. */
public final class RelayOptions {
    /**
     * Reads may grow to 256 KiB and up to 256 KiB may wait to be written before reading pauses.
     * Against Netty's 64 KiB, proxy-bench measured bulk transfers 5-50% faster with request/response
     * unchanged; 1 MiB was no faster and held more memory per busy session.
     */
    private static final int READ_MAX = 256 * 1024;
    private static final int HIGH_WATER = 256 * 1024;

    private static final Map<ChannelOption<?>, Object> OPTIONS = Map.of(
            // Reads happen only when the other side can take them: the backpressure rule.
            ChannelOption.AUTO_READ, false,
            ChannelOption.TCP_NODELAY, true,
            ChannelOption.SO_KEEPALIVE, true,
            ChannelOption.ALLOW_HALF_CLOSURE, true,
            ChannelOption.RECVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(64, 2048, READ_MAX),
            ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(HIGH_WATER / 2, HIGH_WATER));

    private RelayOptions() {
    }

    /** Sets the relay's options on the connections a listener accepts. */
    @SuppressWarnings("unchecked")
    public static ServerBootstrap onAccepted(ServerBootstrap bootstrap) {
        OPTIONS.forEach((option, value) -> bootstrap.childOption((ChannelOption<Object>) option, value));
        return bootstrap;
    }

    /** Sets the relay's options on an upstream connection. */
    @SuppressWarnings("unchecked")
    public static Bootstrap onUpstream(Bootstrap bootstrap) {
        OPTIONS.forEach((option, value) -> bootstrap.option((ChannelOption<Object>) option, value));
        return bootstrap;
    }
}
