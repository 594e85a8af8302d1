package dev.wharf.protocol.redis;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.util.ArrayList;
import java.util.List;

/**
 * A test's own RESP2/RESP3 parser, independent of the codec's: parses complete replies into
 * {@link Value}s, so that a rewritten reply can be compared with its original value by value.
 */
final class RespReader {
    /** One value: its type byte and a String (strings, errors, doubles...), Long, List of Values, or null. */
    record Value(char type, Object value) {
        @SuppressWarnings("unchecked")
        List<Value> elements() {
            return (List<Value>) value;
        }

        String text() {
            return (String) value;
        }
    }

    private final byte[] bytes;
    private int at;

    private RespReader(byte[] bytes) {
        this.bytes = bytes;
    }

    /** Every top-level value in {@code bytes}, which must end with one. */
    static List<Value> parseAll(byte[] bytes) {
        RespReader reader = new RespReader(bytes);
        List<Value> values = new ArrayList<>();
        while (reader.at < bytes.length) {
            values.add(reader.value());
        }
        return values;
    }

    /** The one value {@code bytes} holds. */
    static Value parse(byte[] bytes) {
        List<Value> values = parseAll(bytes);
        if (values.size() != 1) {
            throw new AssertionError("expected one value, got " + values.size());
        }
        return values.get(0);
    }

    private Value value() {
        String line = line();
        char type = line.charAt(0);
        String rest = line.substring(1);
        switch (type) {
            case '+', '-', ',', '(', '#' -> {
                return new Value(type, rest);
            }
            case ':' -> {
                return new Value(type, Long.parseLong(rest));
            }
            case '_' -> {
                return new Value(type, null);
            }
            case '$', '!', '=' -> {
                int length = Integer.parseInt(rest);
                if (length < 0) {
                    return new Value(type, null);
                }
                String text = new String(bytes, at, length, ISO_8859_1);
                at += length;
                expectCrlf();
                return new Value(type, text);
            }
            case '*', '~', '>', '%', '|' -> {
                int count = Integer.parseInt(rest);
                if (count < 0) {
                    return new Value(type, null);
                }
                int n = type == '%' || type == '|' ? 2 * count : count;
                List<Value> elements = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    elements.add(value());
                }
                return new Value(type, elements);
            }
            default -> throw new AssertionError("unknown type " + type + " at " + at);
        }
    }

    private String line() {
        int start = at;
        while (!(bytes[at] == '\r' && bytes[at + 1] == '\n')) {
            at++;
        }
        String line = new String(bytes, start, at - start, ISO_8859_1);
        at += 2;
        return line;
    }

    private void expectCrlf() {
        if (bytes[at] != '\r' || bytes[at + 1] != '\n') {
            throw new AssertionError("no CRLF at " + at);
        }
        at += 2;
    }
}
