package dev.wharf.protocol.redis;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import dev.wharf.metrics.ListenerMetrics;
import dev.wharf.protocol.NodeRoutes;
import dev.wharf.protocol.OrderedOutput;
import dev.wharf.protocol.ProtocolViolation;
import dev.wharf.protocol.redis.PendingCommands.Command;
import dev.wharf.protocol.redis.PendingCommands.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.List;

/**
 * Frames the upstream's RESP2/RESP3 replies and passes them on, rewriting the ones that name
 * nodes: top-level {@code -MOVED} and {@code -ASK} errors (whatever they answer) and the replies
 * to the {@link Topology} commands, which {@link PendingCommands} matches. Every other reply
 * streams through as it arrives, bulk payloads included; a rewritten one is aggregated (at most
 * max-reply-bytes) and waits in {@link OrderedOutput} until its nodes' proxy ports are bound,
 * holding the replies behind it, and the channel is not read meanwhile.
 *
 * <p>The framer is a stack of aggregates, each with the elements it still expects ({@code %}
 * and {@code |} count keys and values; {@code |} attributes are not elements of what holds
 * them, and at top level precede the reply they annotate), at most {@link #MAX_DEPTH} deep, over
 * these states:
 *
 * <pre>
 *           ┌── '+' '-' ':' '_' ',' '#' '(' '$-1' '*-1' ──── value done ◀────────────────┐
 *  HEADER ──┼── '*' '~' '%' '|' '>' (count, or '?' until '.') ── pushed; HEADER         │
 *     ▲     ├── '$' '!' '=' len ──▶ BULK_BODY ──▶ BULK_CRLF ───────────────────────────────┤
 *     │     └── '$?' ──▶ CHUNK_HEADER ─';len'─▶ BULK_BODY ▶ BULK_CRLF ▶ CHUNK_HEADER ─';0'─┘
 *     └── a top-level value done: the reply (or push, or attribute) is complete
 *  RAW: after SYNC/PSYNC, bytes pass unparsed
 * </pre>
 */
final class RedisReplyDecoder extends RespStreamDecoder {
    /** Deepest nesting of aggregates. */
    static final int MAX_DEPTH = 64;
    /** A push's first element is read as its kind (subscribe, message, ...) when at most this long. */
    private static final int MAX_PUSH_KIND = 64;
    /** {@link #remaining} of an aggregate of unknown length ({@code *?}), which ends with '.'. */
    private static final long STREAMED = -1;

    private enum State { HEADER, BULK_BODY, BULK_CRLF, CHUNK_HEADER, RAW }

    private final PendingCommands pending;
    private final NodeRoutes routes;
    private final ListenerMetrics metrics;
    private final int maxReplyBytes;

    private State state = State.HEADER;
    private final long[] remaining = new long[MAX_DEPTH];
    private final boolean[] attribute = new boolean[MAX_DEPTH];
    private int depth;
    private long bulkRemaining;
    private boolean streamedString;
    /** Top-level values begun, for messages. */
    private long replies;
    /** Whether a top-level value has begun and not ended. */
    private boolean inReply;

    // The top-level value being read.
    private Topology topology;
    /** Non-null while a topology reply is aggregated. */
    private ByteBuf aggregate;
    private boolean push;
    private boolean readPushKind;
    private String pushKind;

    /** Where the bytes consumed but not yet passed on start in the cumulation. */
    private int passFrom;

    RedisReplyDecoder(PendingCommands pending, NodeRoutes routes, ListenerMetrics metrics, int maxReplyBytes) {
        this.pending = pending;
        this.routes = routes;
        this.metrics = metrics;
        this.maxReplyBytes = maxReplyBytes;
    }

    @Override
    protected void decodeStream(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        passFrom = in.readerIndex();
        while (in.isReadable() && step(ctx, in, out)) {
            // each step consumes one piece: a line, a bulk payload or part of one
        }
        pass(in, out);
    }

    /** Consumes one piece of {@code in}; false when more bytes are needed first. */
    private boolean step(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case HEADER -> {
                return header(ctx, in, out);
            }
            case BULK_BODY -> {
                int n = (int) Math.min(bulkRemaining, in.readableBytes());
                consume(in, n);
                bulkRemaining -= n;
                if (bulkRemaining == 0) {
                    state = State.BULK_CRLF;
                }
                return true;
            }
            case BULK_CRLF -> {
                if (in.readableBytes() < 2) {
                    return false;
                }
                int at = in.readerIndex();
                if (in.getByte(at) != '\r' || in.getByte(at + 1) != '\n') {
                    throw new ProtocolViolation(where() + ": bulk payload not followed by CRLF but by " + quote(in, at, 2));
                }
                consume(in, 2);
                if (streamedString) {
                    state = State.CHUNK_HEADER;
                } else {
                    state = State.HEADER;
                    valueDone(ctx, out);
                }
                return true;
            }
            case CHUNK_HEADER -> {
                return chunkHeader(ctx, in, out);
            }
            case RAW -> {
                in.skipBytes(in.readableBytes());
                return false;
            }
            default -> throw new IllegalStateException(state.name());
        }
    }

    private boolean header(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!inReply) {
            if (pending.raw()) { // the replies to come answer SYNC or PSYNC: a replication stream
                state = State.RAW;
                return true;
            }
            inReply = true;
            replies++;
        }
        int cr = lineEnd(in);
        if (cr < 0) {
            return false;
        }
        int start = in.readerIndex();
        int lineLength = cr + 2 - start;
        byte type = in.getByte(start);
        boolean streamed = cr == start + 2 && in.getByte(start + 1) == '?';
        if (depth == 0) {
            if (type == '-') {
                error(ctx, in, out, start, cr);
                return true;
            }
            begin(ctx, in, out, type);
        }
        if (readPushKind && depth == 1 && type != '$') {
            readPushKind = false;
            pushKind = type == '+' ? in.toString(start + 1, cr - start - 1, ISO_8859_1) : null;
        }
        switch (type) {
            case '+', '-', ':', '_', ',', '#', '(' -> {
                consume(in, lineLength);
                valueDone(ctx, out);
                return true;
            }
            case '$', '!', '=' -> {
                return bulkHeader(ctx, in, out, type, start, cr, streamed);
            }
            case '*', '~', '%', '>', '|' -> {
                aggregateHeader(ctx, in, out, type, start, cr, streamed);
                return true;
            }
            case '.' -> {
                if (cr != start + 1 || depth == 0 || remaining[depth - 1] != STREAMED) {
                    throw new ProtocolViolation(where() + ": " + quote(in, start, cr - start) + " outside a streamed aggregate");
                }
                consume(in, lineLength);
                depth--;
                valueDone(ctx, out);
                return true;
            }
            default -> throw new ProtocolViolation(where() + ": unknown RESP type " + quote(in, start, 1)
                    + (depth == 0 ? " at the start of a reply" : " at depth " + depth) + " (line " + quote(in, start, cr - start) + ")");
        }
    }

    /** A top-level value other than an error starts: what answers what, and whether to aggregate it. */
    private void begin(ChannelHandlerContext ctx, ByteBuf in, List<Object> out, byte type) {
        if (type == '|') {
            return; // an attribute answers nothing: the reply it annotates follows
        }
        if (type == '>') {
            push = true;
            readPushKind = pending.awaitsConfirmation();
            return;
        }
        Command command = pending.reply(type);
        if (command != null && command.kind == Kind.TOPOLOGY) {
            pass(in, out);
            topology = command.topology;
            aggregate = ctx.alloc().buffer();
        }
    }

    /** A top-level error: it answers a command, and is rewritten when it is a MOVED or ASK redirect. */
    private void error(ChannelHandlerContext ctx, ByteBuf in, List<Object> out, int start, int cr) {
        pending.reply((byte) '-');
        byte first = in.getByte(start + 1);
        String[] words = first == 'M' || first == 'A' ? in.toString(start + 1, cr - start - 1, ISO_8859_1).split(" ", -1) : null;
        boolean redirect = words != null && words.length == 3 && (words[0].equals("MOVED") || words[0].equals("ASK"))
                && words[2].indexOf(':') >= 0;
        if (!redirect) {
            consume(in, cr + 2 - start);
        } else {
            pass(in, out);
            ByteBuf reply = in.readRetainedSlice(cr + 2 - start);
            passFrom = in.readerIndex();
            String kind = words[0].equals("MOVED") ? "moved" : "ask";
            ReplyRewrite rewrite = new ReplyRewrite(reply, routes, ctx.channel().remoteAddress(), () -> metrics.redisRedirect(kind));
            String address = words[2];
            int colon = address.lastIndexOf(':');
            String node = rewrite.node(address.substring(0, colon), ReplyRewrite.port(address.substring(colon + 1)));
            if (node != null) {
                int addressStart = 1 + words[0].length() + 1 + words[1].length() + 1;
                rewrite.add(new ReplyRewrite.TextEdit(addressStart, addressStart + address.length(), node, true));
            }
            output.add(ctx, out, rewrite);
        }
        unitDone(ctx, out);
    }

    private boolean bulkHeader(ChannelHandlerContext ctx, ByteBuf in, List<Object> out, byte type, int start, int cr, boolean streamed) {
        int lineLength = cr + 2 - start;
        if (streamed && type == '$') {
            consume(in, lineLength);
            streamedString = true;
            state = State.CHUNK_HEADER;
            return true;
        }
        long length = parseNumber(in, start + 1, cr);
        if (length == NOT_A_NUMBER) {
            throw new ProtocolViolation(where() + ": length " + quote(in, start + 1, cr - start - 1) + " of " + typeName(type)
                    + " is not a number");
        }
        if (length == -1 && type == '$') { // RESP2's null bulk string
            consume(in, lineLength);
            valueDone(ctx, out);
            return true;
        }
        if (length < 0 || length > MAX_BULK) {
            throw new ProtocolViolation(where() + ": " + typeName(type) + " length " + length + " (expected: 0.." + MAX_BULK + ")");
        }
        checkAggregated(lineLength + length + 2);
        if (readPushKind && depth == 1) {
            if (length <= MAX_PUSH_KIND && in.readableBytes() < lineLength + length + 2) {
                return false; // read the push's kind whole; it is short
            }
            readPushKind = false;
            pushKind = length <= MAX_PUSH_KIND ? in.toString(cr + 2, (int) length, ISO_8859_1) : null;
        }
        consume(in, lineLength);
        bulkRemaining = length;
        state = length == 0 ? State.BULK_CRLF : State.BULK_BODY;
        return true;
    }

    private void aggregateHeader(ChannelHandlerContext ctx, ByteBuf in, List<Object> out, byte type, int start, int cr, boolean streamed) {
        int lineLength = cr + 2 - start;
        long count;
        if (streamed && (type == '*' || type == '~' || type == '%')) {
            count = STREAMED;
        } else {
            count = parseNumber(in, start + 1, cr);
            if (count == NOT_A_NUMBER) {
                throw new ProtocolViolation(where() + ": length " + quote(in, start + 1, cr - start - 1) + " of " + typeName(type)
                        + " is not a number");
            }
            if (count == -1 && type == '*') { // RESP2's null array
                consume(in, lineLength);
                valueDone(ctx, out);
                return;
            }
            if (count < 0) {
                throw new ProtocolViolation(where() + ": " + typeName(type) + " length " + count + " (expected: >= 0)");
            }
            if (type == '%' || type == '|') {
                count *= 2; // keys and values
            }
        }
        if (depth == MAX_DEPTH) {
            throw new ProtocolViolation(where() + ": nesting depth " + (depth + 1) + " (expected: <= " + MAX_DEPTH + ")");
        }
        consume(in, lineLength);
        if (count == 0) {
            if (type != '|') {
                valueDone(ctx, out);
            } else if (depth == 0) {
                unitDone(ctx, out);
            }
            return;
        }
        remaining[depth] = count;
        attribute[depth] = type == '|';
        depth++;
    }

    private boolean chunkHeader(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int cr = lineEnd(in);
        if (cr < 0) {
            return false;
        }
        int start = in.readerIndex();
        if (in.getByte(start) != ';') {
            throw new ProtocolViolation(where() + ": streamed string chunk starts with " + quote(in, start, 1) + " (expected: ';')");
        }
        long length = parseNumber(in, start + 1, cr);
        if (length < 0 || length > MAX_BULK) {
            throw new ProtocolViolation(where() + ": streamed string chunk length " + quote(in, start + 1, cr - start - 1)
                    + " (expected: 0.." + MAX_BULK + ")");
        }
        checkAggregated(cr + 2 - start + length + 2);
        consume(in, cr + 2 - start);
        if (length == 0) {
            streamedString = false;
            state = State.HEADER;
            valueDone(ctx, out);
        } else {
            bulkRemaining = length;
            state = State.BULK_BODY;
        }
        return true;
    }

    /** A value at the current depth is complete: count it in its aggregate, closing those it completes. */
    private void valueDone(ChannelHandlerContext ctx, List<Object> out) {
        while (depth > 0) {
            int top = depth - 1;
            if (remaining[top] == STREAMED || --remaining[top] > 0) {
                return;
            }
            depth--;
            if (attribute[top] && depth > 0) {
                return; // an attribute is not an element of the aggregate holding it
            }
        }
        unitDone(ctx, out);
    }

    /** A top-level value is complete. */
    private void unitDone(ChannelHandlerContext ctx, List<Object> out) {
        inReply = false;
        if (aggregate != null) {
            ByteBuf reply = aggregate;
            Topology rewritten = topology;
            aggregate = null;
            topology = null;
            output.add(ctx, out, rewrite(ctx, rewritten, reply));
        }
        if (push) {
            pending.push(pushKind);
            push = false;
            readPushKind = false;
            pushKind = null;
        }
    }

    private ReplyRewrite rewrite(ChannelHandlerContext ctx, Topology rewritten, ByteBuf reply) {
        ReplyRewrite rewrite = new ReplyRewrite(reply, routes, ctx.channel().remoteAddress(), () -> metrics.redisRewrite(rewritten.command));
        try {
            rewritten.find(RespValue.parse(reply), reply, rewrite);
        } catch (RuntimeException e) {
            rewrite.discard();
            throw e;
        }
        return rewrite;
    }

    /** Consumes {@code n} bytes: into the aggregate when one is being read, else into the bytes to pass on. */
    private void consume(ByteBuf in, int n) {
        if (aggregate == null) {
            in.skipBytes(n);
            return;
        }
        checkAggregated(n);
        aggregate.writeBytes(in, in.readerIndex(), n);
        in.skipBytes(n);
        passFrom = in.readerIndex();
    }

    private void checkAggregated(long more) {
        if (aggregate != null && aggregate.readableBytes() + more > maxReplyBytes) {
            throw new ProtocolViolation(where() + ", a " + topology.title + " reply: more than "
                    + maxReplyBytes + " bytes (expected: <= " + maxReplyBytes + ", the listener's max reply bytes)");
        }
    }

    /** Passes on the bytes consumed since {@link #passFrom}, behind anything held. */
    private void pass(ByteBuf in, List<Object> out) {
        if (in.readerIndex() > passFrom) {
            output.add(out, in.retainedSlice(passFrom, in.readerIndex() - passFrom));
        }
        passFrom = in.readerIndex();
    }

    @Override
    protected void release() {
        super.release();
        if (aggregate != null) {
            aggregate.release();
            aggregate = null;
        }
    }

    @Override
    String where() {
        return "reply #" + replies;
    }

    private static String typeName(byte type) {
        return switch (type) {
            case '$' -> "bulk string";
            case '!' -> "blob error";
            case '=' -> "verbatim string";
            case '*' -> "array";
            case '~' -> "set";
            case '%' -> "map";
            case '>' -> "push";
            case '|' -> "attribute";
            default -> "'" + (char) type + "'";
        };
    }

}
