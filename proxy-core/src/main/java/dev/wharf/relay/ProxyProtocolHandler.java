package dev.wharf.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the PROXY protocol header (v1 or v2) in front of one client connection, then hands the
 * connection to admission ({@link Decision#admit}) with the source the header names, and the bytes the
 * client sent behind it. Takes the admission handler's place in the pipeline and leaves it once
 * it has decided; everything runs on the channel's event loop.
 *
 * <pre>
 *  SNIFFING --first bytes are a v1 "PROXY " or v2 signature, peer trusted--> DECODING --header--> admit
 *     |  \--no signature, optional--> admit with the peer as source
 *     \--no signature and required, signature from an untrusted peer--> error
 *  any state but DONE: malformed or oversized header, EOF, reset, {@link #HEADER_TIMEOUT} --> error
 * </pre>
 *
 * Decoding is Netty's {@link HAProxyMessageDecoder}, put in front of this handler only once a
 * signature was seen: it bounds a v1 line at 108 bytes (CRLF included) and, with
 * {@link #MAX_TLV_BYTES}, a v2 header at 232 + 4096 bytes, and removes itself when done.
 */
final class ProxyProtocolHandler extends ChannelInboundHandlerAdapter {
    static final String NAME = "proxy-protocol";
    static final String DECODER_NAME = "proxy-protocol-decoder";
    /** How long a client has to deliver a complete header, from accept. */
    static final Duration HEADER_TIMEOUT = Duration.ofSeconds(3);
    /** The largest v2 TLV section accepted: ample for AWS/GCP/Azure TLVs, yet one small buffer. */
    static final int MAX_TLV_BYTES = 4096;
    private static final Logger LOG = LoggerFactory.getLogger(ProxyProtocolHandler.class);
    private static final byte[] V1_SIGNATURE = {'P', 'R', 'O', 'X', 'Y', ' '};
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    /** What becomes of the connection once the header is read, or cannot be. */
    interface Decision {
        /**
         * The source is known: admit or refuse. {@code early} (may be null) holds the bytes behind the
         * header; {@code eof} says the client has already shut down its side.
         *
         * @param proxy the trusted peer whose header named {@code source}, or null
         */
        void admit(Channel client, InetSocketAddress source, InetSocketAddress proxy, ByteBuf early, boolean eof);

        /** The header was missing, malformed, late or not allowed: close, count, log. */
        void reject(Channel client, InetSocketAddress peer, String why);
    }

    private enum State { SNIFFING, DECODING, DONE }

    private enum Signature { INCOMPLETE, NONE, FOUND }

    private final Decision decision;
    private final InetSocketAddress peer;
    private final boolean trusted;
    private final boolean required;
    private State state = State.SNIFFING;
    /** The first bytes, while they may still turn out to be a signature. */
    private ByteBuf sniffed;
    /** Bytes behind the header; they go upstream first. */
    private CompositeByteBuf behind;
    private boolean headerRead;
    /** The source the header named; null for LOCAL and UNKNOWN headers (the proxy's own connections). */
    private InetSocketAddress headerSource;
    private boolean inputShutdown;
    private ScheduledFuture<?> timeout;

    ProxyProtocolHandler(Decision decision, InetSocketAddress peer, boolean trusted, boolean required) {
        this.decision = decision;
        this.peer = peer;
        this.trusted = trusted;
        this.required = required;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(
                () -> fail(ctx, "no complete PROXY header within " + HEADER_TIMEOUT.toSeconds() + " s"),
                HEADER_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HAProxyMessage header) {
            try {
                header(ctx, header);
            } finally {
                header.release();
            }
            return;
        }
        ByteBuf data = (ByteBuf) msg;
        switch (state) {
            case SNIFFING -> sniff(ctx, data);
            case DECODING -> keepBehindHeader(ctx, data); // what the decoder passes on when it leaves
            default -> data.release(); // a decision was made; the channel is closing
        }
    }

    private void sniff(ChannelHandlerContext ctx, ByteBuf data) {
        if (sniffed == null) {
            sniffed = data;
        } else {
            CompositeByteBuf both = ctx.alloc().compositeBuffer();
            both.addComponents(true, sniffed, data);
            sniffed = both;
        }
        Signature signature = signature(sniffed);
        if (signature == Signature.INCOMPLETE) {
            return; // channelReadComplete asks for more
        }
        if (signature == Signature.NONE) {
            if (required) {
                fail(ctx, "the connection does not start with a PROXY header");
            } else {
                ByteBuf first = sniffed;
                sniffed = null;
                keepBehindHeader(ctx, first);
                admit(ctx);
            }
            return;
        }
        if (!trusted) {
            fail(ctx, "a PROXY header from a peer not in trusted-proxies");
            return;
        }
        state = State.DECODING;
        ctx.pipeline().addBefore(ctx.name(), DECODER_NAME, new HAProxyMessageDecoder(MAX_TLV_BYTES));
        ByteBuf first = sniffed;
        sniffed = null;
        // From the head of the pipeline, so the decoder sees the bytes; it answers (re-entrantly)
        // with the header, then with the bytes behind it as it removes itself.
        ctx.pipeline().fireChannelRead(first);
        if (headerRead) {
            admit(ctx);
        }
    }

    private void keepBehindHeader(ChannelHandlerContext ctx, ByteBuf data) {
        if (behind == null) {
            behind = ctx.alloc().compositeBuffer();
        }
        behind.addComponent(true, data);
    }

    private void header(ChannelHandlerContext ctx, HAProxyMessage header) {
        if (state != State.DECODING) {
            return;
        }
        if (header.command() == HAProxyCommand.LOCAL || header.proxiedProtocol() == HAProxyProxiedProtocol.UNKNOWN) {
            headerRead = true; // the proxy's own connection, e.g. a health check: the peer is the source
            return;
        }
        HAProxyProxiedProtocol protocol = header.proxiedProtocol();
        if (protocol != HAProxyProxiedProtocol.TCP4 && protocol != HAProxyProxiedProtocol.TCP6) {
            fail(ctx, "a PROXY header for " + protocol + " (expected: TCP4, TCP6 or UNKNOWN)");
            return;
        }
        // Netty checked the address syntax; this only turns the literal into an address, without DNS.
        InetAddress address = NetUtil.createInetAddressFromIpAddressString(header.sourceAddress());
        if (address == null) {
            fail(ctx, "a PROXY header with source address " + header.sourceAddress() + " (expected: an IP address)");
            return;
        }
        headerSource = new InetSocketAddress(address, header.sourcePort());
        headerRead = true;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == State.DECODING && headerRead) {
            admit(ctx);
        } else if (state != State.DONE) {
            RelayHandler.readMore(ctx.channel());
        }
    }

    private void admit(ChannelHandlerContext ctx) {
        if (state == State.DONE) {
            return;
        }
        state = State.DONE;
        timeout.cancel(false);
        ByteBuf early = behind;
        behind = null;
        ctx.pipeline().remove(this);
        InetSocketAddress source = headerSource != null ? headerSource : peer;
        decision.admit(ctx.channel(), source, headerSource != null ? peer : null, early, inputShutdown);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShutdown = true;
            if (state == State.DECODING && headerRead) {
                admit(ctx);
            } else if (state == State.SNIFFING && !required) {
                // Fewer bytes than a signature, then EOF: whatever they are, they are not a header.
                if (sniffed != null) {
                    ByteBuf first = sniffed;
                    sniffed = null;
                    keepBehindHeader(ctx, first);
                }
                admit(ctx);
            } else {
                fail(ctx, "the client shut down its side before a complete PROXY header");
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(ctx, "the connection closed before a complete PROXY header");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (state == State.DONE) {
            LOG.debug("error after the PROXY header was handled, peer {}", Session.format(peer), cause);
            ctx.close();
            return;
        }
        // HAProxyMessageDecoder wraps its reasons, e.g. "invalid TCP4/6 header: ... (expected: 6 parts)".
        Throwable reason = cause;
        while (reason.getCause() != null && reason.getCause() != reason) {
            reason = reason.getCause();
        }
        fail(ctx, "malformed PROXY header: " + reason.getMessage());
    }

    private void fail(ChannelHandlerContext ctx, String why) {
        if (state == State.DONE) {
            return;
        }
        state = State.DONE;
        timeout.cancel(false);
        releaseBuffers();
        decision.reject(ctx.channel(), peer, why);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseBuffers();
        if (timeout != null) {
            timeout.cancel(false);
        }
    }

    private void releaseBuffers() {
        if (sniffed != null) {
            sniffed.release();
            sniffed = null;
        }
        if (behind != null) {
            behind.release();
            behind = null;
        }
    }

    /** Whether {@code in} starts with a v1 or v2 signature, cannot, or is too short to tell. */
    private static Signature signature(ByteBuf in) {
        Signature v1 = startsWith(in, V1_SIGNATURE);
        Signature v2 = startsWith(in, V2_SIGNATURE);
        if (v1 == Signature.FOUND || v2 == Signature.FOUND) {
            return Signature.FOUND;
        }
        return v1 == Signature.INCOMPLETE || v2 == Signature.INCOMPLETE ? Signature.INCOMPLETE : Signature.NONE;
    }

    private static Signature startsWith(ByteBuf in, byte[] signature) {
        int n = Math.min(in.readableBytes(), signature.length);
        for (int i = 0; i < n; i++) {
            if (in.getByte(in.readerIndex() + i) != signature[i]) {
                return Signature.NONE;
            }
        }
        return n == signature.length ? Signature.FOUND : Signature.INCOMPLETE;
    }
}
