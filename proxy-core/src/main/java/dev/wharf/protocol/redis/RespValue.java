package dev.wharf.protocol.redis;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import dev.wharf.protocol.ProtocolViolation;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * One RESP2/RESP3 value of an aggregated reply, by position: where it starts and ends in the
 * reply's buffer and where its payload is, so that a rewrite can replace exactly the bytes of an
 * address and copy the rest unchanged. Only topology replies (bounded by max-reply-bytes) are
 * parsed into these; the reply decoder has already checked their framing and depth.
 *
 * <p>Attributes are skipped (not children of anything). A streamed string ({@code $?}) is kept
 * as one opaque value, without a payload: Redis does not send them, and nothing is rewritten
 * inside one.
 */
final class RespValue {
    final byte type;
    /** The type byte's index. */
    final int start;
    /** The index after the value's last byte. */
    final int end;
    /** Strings: the payload (a verbatim string's includes its "txt:" prefix); other lines: the line's content. */
    final int payloadStart;
    final int payloadEnd;
    /** Aggregates: the elements (a map's keys and values alternate); otherwise null. */
    final List<RespValue> children;
    /** {@code $-1}, {@code *-1} or {@code _}. */
    final boolean isNull;

    private RespValue(byte type, int start, int end, int payloadStart, int payloadEnd, List<RespValue> children, boolean isNull) {
        this.type = type;
        this.start = start;
        this.end = end;
        this.payloadStart = payloadStart;
        this.payloadEnd = payloadEnd;
        this.children = children;
        this.isNull = isNull;
    }

    /** Parses the one value that fills {@code buf} from its reader index. */
    static RespValue parse(ByteBuf buf) {
        int[] at = {buf.readerIndex()};
        RespValue value = next(buf, at);
        if (at[0] != buf.writerIndex()) {
            throw new ProtocolViolation("aggregated reply: " + (buf.writerIndex() - at[0]) + " bytes after its end");
        }
        return value;
    }

    /** A simple, bulk or verbatim string that is not null. */
    boolean isString() {
        return !isNull && (type == '+' || type == '$' || type == '=');
    }

    /** The payload as ISO-8859-1 (one char per byte, so indexes are byte offsets). */
    String text(ByteBuf buf) {
        return buf.toString(payloadStart, payloadEnd - payloadStart, ISO_8859_1);
    }

    /** Whether this is a string equal to {@code ascii}. */
    boolean is(ByteBuf buf, String ascii) {
        return isString() && payloadEnd - payloadStart == ascii.length() && text(buf).equals(ascii);
    }

    /** An integer ({@code :}) value, or -1 if this is none. */
    long integer(ByteBuf buf) {
        if (type != ':') {
            return -1;
        }
        long value = RespStreamDecoder.parseNumber(buf, payloadStart, payloadEnd);
        return value == RespStreamDecoder.NOT_A_NUMBER ? -1 : value;
    }

    private static RespValue next(ByteBuf buf, int[] at) {
        RespValue value;
        do {
            value = one(buf, at);
        } while (value == null); // an attribute: the value it annotates follows
        return value;
    }

    /** The value at {@code at[0]}, advancing it; null for an attribute (skipped). */
    private static RespValue one(ByteBuf buf, int[] at) {
        int start = at[0];
        int cr = buf.indexOf(start, buf.writerIndex(), (byte) '\r');
        if (cr < 0) {
            throw new ProtocolViolation("aggregated reply: line without CRLF at byte " + start);
        }
        byte type = buf.getByte(start);
        at[0] = cr + 2;
        boolean streamed = cr == start + 2 && buf.getByte(start + 1) == '?';
        switch (type) {
            case '$', '!', '=' -> {
                if (streamed) {
                    skipChunks(buf, at);
                    return new RespValue(type, start, at[0], at[0], at[0], null, false);
                }
                long length = RespStreamDecoder.parseNumber(buf, start + 1, cr);
                if (length < 0) {
                    return new RespValue(type, start, at[0], at[0], at[0], null, true);
                }
                int payload = at[0];
                at[0] = payload + (int) length + 2;
                return new RespValue(type, start, at[0], payload, payload + (int) length, null, false);
            }
            case '*', '~', '>', '%', '|', '.' -> {
                if (type == '.') {
                    throw new ProtocolViolation("aggregated reply: end of a streamed aggregate outside one at byte " + start);
                }
                long count = streamed ? -1 : RespStreamDecoder.parseNumber(buf, start + 1, cr);
                if (count < 0 && !streamed) {
                    return new RespValue(type, start, at[0], start + 1, cr, null, true);
                }
                if (type == '%' || type == '|') {
                    count *= 2;
                }
                List<RespValue> children = new ArrayList<>(streamed ? 8 : (int) Math.min(count, 1024));
                if (streamed) {
                    while (!(buf.getByte(at[0]) == '.' && buf.getByte(at[0] + 1) == '\r')) {
                        children.add(next(buf, at));
                    }
                    at[0] += 3;
                } else {
                    for (long i = 0; i < count; i++) {
                        children.add(next(buf, at));
                    }
                }
                if (type == '|') {
                    return null;
                }
                return new RespValue(type, start, at[0], start + 1, cr, children, false);
            }
            default -> {
                return new RespValue(type, start, at[0], start + 1, cr, null, type == '_');
            }
        }
    }

    private static void skipChunks(ByteBuf buf, int[] at) {
        while (true) {
            int cr = buf.indexOf(at[0], buf.writerIndex(), (byte) '\r');
            long length = RespStreamDecoder.parseNumber(buf, at[0] + 1, cr);
            at[0] = cr + 2;
            if (length == 0) {
                return;
            }
            at[0] += (int) length + 2;
        }
    }
}
