package dev.wharf.protocol.redis;

import dev.wharf.protocol.ProtocolDecoder;
import dev.wharf.protocol.ProtocolViolation;
import io.netty.buffer.ByteBuf;

/**
 * What the request and reply decoders share: RESP's bounds, its CRLF-terminated lines and their
 * decimal numbers ({@link ProtocolDecoder}: output order, held read-complete, what happens after a violation). A decoder consumes what it can of the cumulation and
 * leaves only an incomplete line (at most {@link #MAX_LINE} bytes) or a few bytes it must see
 * whole; bulk payloads are consumed as they arrive, never cumulated.
 */
abstract class RespStreamDecoder extends ProtocolDecoder {
    /** Longest line (type byte and content, without CRLF): Redis's PROTO_INLINE_MAX_SIZE. */
    static final int MAX_LINE = 64 * 1024;
    /** Longest bulk string: Redis's default proto-max-bulk-len. */
    static final long MAX_BULK = 512L * 1024 * 1024;
    /** A number that is not one: {@link #parseNumber} found something other than an optional '-' and digits. */
    static final long NOT_A_NUMBER = Long.MIN_VALUE;

    /** Where the decoder is, for error messages, e.g. {@code reply #3}: built only when one is thrown. */
    abstract String where();

    /**
     * The index of the CR of the line starting at the reader index, or -1 while the line is
     * incomplete. Throws, naming {@link #where()}, when the line is longer than {@link #MAX_LINE}
     * or ends in a bare LF.
     */
    final int lineEnd(ByteBuf in) {
        int from = in.readerIndex();
        int window = Math.min(in.readableBytes(), MAX_LINE + 2);
        int lf = in.indexOf(from, from + window, (byte) '\n');
        if (lf < 0) {
            if (in.readableBytes() >= MAX_LINE + 2) {
                throw new ProtocolViolation(where() + ": line longer than " + MAX_LINE + " bytes without CRLF (expected: <= "
                        + MAX_LINE + ")");
            }
            return -1;
        }
        if (lf == from || in.getByte(lf - 1) != '\r') {
            throw new ProtocolViolation(where() + ": line ends in LF without CR: " + quote(in, from, lf - from));
        }
        return lf - 1;
    }

    /** A decimal integer (optional '-', 1 to 18 digits) from {@code buf[from, to)}, or {@link #NOT_A_NUMBER}. */
    static long parseNumber(ByteBuf buf, int from, int to) {
        boolean negative = from < to && buf.getByte(from) == '-';
        int i = negative ? from + 1 : from;
        if (i == to || to - i > 18) {
            return NOT_A_NUMBER;
        }
        long value = 0;
        for (; i < to; i++) {
            byte b = buf.getByte(i);
            if (b < '0' || b > '9') {
                return NOT_A_NUMBER;
            }
            value = value * 10 + (b - '0');
        }
        return negative ? -value : value;
    }

    /** Up to 40 bytes of {@code buf} from {@code from}, printable, in quotes: for messages. */
    static String quote(ByteBuf buf, int from, int length) {
        StringBuilder s = new StringBuilder("'");
        int n = Math.min(length, 40);
        for (int i = 0; i < n; i++) {
            int b = buf.getByte(from + i) & 0xff;
            if (b >= 0x20 && b < 0x7f) {
                s.append((char) b);
            } else {
                s.append(String.format("\\x%02x", b));
            }
        }
        return s.append(length > n ? "...'" : "'").toString();
    }
}
