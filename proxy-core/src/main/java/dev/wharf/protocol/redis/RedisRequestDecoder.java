package dev.wharf.protocol.redis;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import dev.wharf.protocol.ProtocolViolation;
import dev.wharf.protocol.redis.PendingCommands.Command;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Finds where each command a client sends ends and tells {@link PendingCommands} what its reply
 * will need; the bytes pass on unchanged, as they arrive (only an incomplete line waits for its
 * end, at most {@link #MAX_LINE} bytes). Only the first {@link #CAPTURED_ARGS} arguments are read,
 * and only when short: command name, subcommand, HELLO's version, CLIENT REPLY's mode.
 *
 * <p>Commands are multibulk ({@code *N} then N {@code $len} arguments) or inline (a line split
 * as Redis splits it, quotes included). {@code *0}, {@code *-1} and an empty inline line are no
 * command: Redis does not answer them. Bounds, as Redis's own: {@link #MAX_ARGS} arguments,
 * {@link #MAX_BULK} bytes per argument, {@link #MAX_LINE} bytes per line.
 *
 * <pre>
 *  COMMAND ──'*N'──▶ ARG_HEADER ──'$len', short, one of the first three──▶ ARG_CAPTURE ──┐
 *    ▲  │                 ▲      └─'$len'──▶ ARG_BODY ──▶ ARG_CRLF ──────────────────────┤
 *    │  └─inline line─┐   └──────────────── more arguments ──────────────────────────────┤
 *    └────────────────┴──────────────────── last argument: command sent ──────────────────┘
 * </pre>
 */
final class RedisRequestDecoder extends RespStreamDecoder {
    /** Most arguments in one multibulk command (what Redis allowed before 7.0). */
    static final int MAX_ARGS = 1024 * 1024;
    /** Arguments read: the command, its subcommand, and one more (CLIENT REPLY OFF). */
    static final int CAPTURED_ARGS = 3;
    /** Longer arguments are never a name this decoder looks for, so they are skipped, not read. */
    static final int MAX_CAPTURED_ARG = 64;

    private enum State { COMMAND, ARG_HEADER, ARG_CAPTURE, ARG_BODY, ARG_CRLF }

    private final PendingCommands pending;
    private State state = State.COMMAND;
    private long commands;
    private int argCount;
    private int argIndex;
    private long bulkLength;
    private long bulkRemaining;
    private final String[] args = new String[CAPTURED_ARGS];
    /** Inside MULTI (until EXEC, DISCARD or RESET): commands are answered +QUEUED. */
    private boolean inMulti;
    /** A command queued in this MULTI breaks the one-reply rule once EXEC runs it. */
    private boolean stopAfterExec;

    RedisRequestDecoder(PendingCommands pending) {
        this.pending = pending;
    }

    @Override
    protected void decodeStream(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int from = in.readerIndex();
        while (in.isReadable() && step(in)) {
            // each step consumes one piece: a line, an argument or part of one
        }
        if (in.readerIndex() > from) {
            out.add(in.retainedSlice(from, in.readerIndex() - from));
        }
    }

    /** Consumes one piece of {@code in}; false when more bytes are needed first. */
    private boolean step(ByteBuf in) {
        switch (state) {
            case COMMAND -> {
                return in.getByte(in.readerIndex()) == '*' ? multibulkHeader(in) : inline(in);
            }
            case ARG_HEADER -> {
                return argHeader(in);
            }
            case ARG_CAPTURE -> {
                if (in.readableBytes() < bulkLength + 2) {
                    return false;
                }
                args[argIndex] = in.toString(in.readerIndex(), (int) bulkLength, ISO_8859_1);
                in.skipBytes((int) bulkLength);
                state = State.ARG_CRLF;
                return true;
            }
            case ARG_BODY -> {
                int n = (int) Math.min(bulkRemaining, in.readableBytes());
                in.skipBytes(n);
                bulkRemaining -= n;
                if (bulkRemaining == 0) {
                    state = State.ARG_CRLF;
                }
                return true;
            }
            case ARG_CRLF -> {
                if (in.readableBytes() < 2) {
                    return false;
                }
                int at = in.readerIndex();
                if (in.getByte(at) != '\r' || in.getByte(at + 1) != '\n') {
                    throw new ProtocolViolation(where() + ": argument " + (argIndex + 1) + " of " + argCount + " ("
                            + bulkLength + " bytes) is not followed by CRLF but by " + quote(in, at, 2));
                }
                in.skipBytes(2);
                if (++argIndex == argCount) {
                    sent(argCount);
                    state = State.COMMAND;
                } else {
                    state = State.ARG_HEADER;
                }
                return true;
            }
            default -> throw new IllegalStateException(state.name());
        }
    }

    private boolean multibulkHeader(ByteBuf in) {
        int cr = lineEnd(in);
        if (cr < 0) {
            return false;
        }
        int start = in.readerIndex();
        long count = parseNumber(in, start + 1, cr);
        if (count == NOT_A_NUMBER) {
            throw new ProtocolViolation(where() + ": multibulk length " + quote(in, start + 1, cr - start - 1) + " is not a number");
        }
        if (count > MAX_ARGS) {
            throw new ProtocolViolation(where() + ": multibulk length " + count + " (expected: <= " + MAX_ARGS + " arguments)");
        }
        in.readerIndex(cr + 2);
        if (count > 0) {
            argCount = (int) count;
            argIndex = 0;
            Arrays.fill(args, null);
            state = State.ARG_HEADER;
        } // *0 and *-N are no command: Redis skips them without a reply
        return true;
    }

    private boolean argHeader(ByteBuf in) {
        int cr = lineEnd(in);
        if (cr < 0) {
            return false;
        }
        int start = in.readerIndex();
        if (in.getByte(start) != '$') {
            throw new ProtocolViolation(where() + ": argument " + (argIndex + 1) + " of " + argCount + " starts with "
                    + quote(in, start, 1) + " (expected: '$')");
        }
        long length = parseNumber(in, start + 1, cr);
        if (length == NOT_A_NUMBER) {
            throw new ProtocolViolation(where() + ": argument " + (argIndex + 1) + " of " + argCount + ": bulk length "
                    + quote(in, start + 1, cr - start - 1) + " is not a number");
        }
        if (length < 0 || length > MAX_BULK) {
            throw new ProtocolViolation(where() + ": argument " + (argIndex + 1) + " of " + argCount + ": bulk length "
                    + length + " (expected: 0.." + MAX_BULK + ")");
        }
        in.readerIndex(cr + 2);
        bulkLength = length;
        bulkRemaining = length;
        if (argIndex < CAPTURED_ARGS && length <= MAX_CAPTURED_ARG) {
            state = State.ARG_CAPTURE;
        } else {
            state = length == 0 ? State.ARG_CRLF : State.ARG_BODY;
        }
        return true;
    }

    /** A command that is one line, split into arguments as Redis splits it (sdssplitargs). */
    private boolean inline(ByteBuf in) {
        int start = in.readerIndex();
        int window = Math.min(in.readableBytes(), MAX_LINE + 1);
        int lf = in.indexOf(start, start + window, (byte) '\n');
        if (lf < 0) {
            if (in.readableBytes() > MAX_LINE) {
                throw new ProtocolViolation(where() + ": inline command longer than " + MAX_LINE + " bytes without a newline (expected: <= "
                        + MAX_LINE + ")");
            }
            return false;
        }
        int end = lf > start && in.getByte(lf - 1) == '\r' ? lf - 1 : lf; // Redis takes a bare LF too
        List<String> words = splitArgs(in.toString(start, end - start, ISO_8859_1));
        in.readerIndex(lf + 1);
        Arrays.fill(args, null);
        if (words == null) {
            sent(Command.OTHER); // unbalanced quotes: Redis answers with one error, then closes
        } else if (!words.isEmpty()) {
            for (int i = 0; i < Math.min(CAPTURED_ARGS, words.size()); i++) {
                args[i] = words.get(i);
            }
            sent(words.size());
        } // an empty line is no command
        return true;
    }

    /** A command with {@code argc} arguments (the first ones in {@link #args}) has been read. */
    private void sent(int argc) {
        sent(classify(argc));
    }

    private void sent(Command command) {
        commands++;
        pending.sent(command);
    }

    /**
     * What the reply to the command in {@link #args} needs. Inside MULTI every command is answered
     * +QUEUED (EXEC's reply holds their real replies, which are not rewritten); commands that would
     * break the one-reply rule there take effect when EXEC runs them, so matching stops after EXEC.
     */
    private Command classify(int argc) {
        String name = upper(args[0]);
        String sub = upper(args[1]);
        if (name.equals("RESET")) { // runs at once, also inside MULTI, and ends it
            inMulti = false;
            stopAfterExec = false;
            return Command.RESET;
        }
        if (inMulti) {
            switch (name) {
                case "EXEC", "DISCARD" -> {
                    inMulti = false;
                    if (stopAfterExec && name.equals("EXEC")) {
                        stopAfterExec = false;
                        pending.sent(Command.OTHER);
                        return Command.STOP;
                    }
                    stopAfterExec = false;
                }
                case "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE" -> stopAfterExec = true;
                case "CLIENT" -> stopAfterExec |= sub.equals("REPLY") && argc == 3 && !upper(args[2]).equals("ON");
                default -> { }
            }
            return Command.OTHER;
        }
        switch (name) {
            case "CLUSTER" -> {
                return switch (sub) {
                    case "SLOTS" -> Command.topology(Topology.SLOTS);
                    case "SHARDS" -> Command.topology(Topology.SHARDS);
                    case "NODES" -> Command.topology(Topology.NODES);
                    case "REPLICAS", "SLAVES" -> Command.topology(Topology.REPLICAS);
                    default -> Command.OTHER;
                };
            }
            case "HELLO" -> {
                return Command.hello(argc < 2 ? 0 : sub.equals("2") ? 2 : sub.equals("3") ? 3 : 0);
            }
            case "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE" -> {
                // without a channel Redis answers one arity error: an ordinary reply
                return argc < 2 ? Command.OTHER : Command.subscribe(name.toLowerCase(Locale.ROOT), argc - 1);
            }
            case "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE" -> {
                // without a channel: one confirmation per subscribed channel, at least one
                return Command.subscribe(name.toLowerCase(Locale.ROOT), Math.max(1, argc - 1));
            }
            case "MONITOR" -> {
                return Command.STOP;
            }
            case "CLIENT" -> {
                boolean noReplies = sub.equals("REPLY") && argc == 3 && (upper(args[2]).equals("OFF") || upper(args[2]).equals("SKIP"));
                return noReplies ? Command.STOP : Command.OTHER;
            }
            case "SYNC", "PSYNC" -> {
                return Command.RAW;
            }
            case "MULTI" -> {
                inMulti = true;
                return Command.OTHER;
            }
            default -> {
                return Command.OTHER;
            }
        }
    }

    private static String upper(String arg) {
        return arg == null ? "" : arg.toUpperCase(Locale.ROOT);
    }

    @Override
    String where() {
        return "request #" + (commands + 1);
    }

    /**
     * Splits an inline command as Redis's sdssplitargs does: words separated by blanks, "double
     * quotes" with backslash escapes, 'single quotes'; a closing quote must be followed by a blank
     * or the end. Returns null for unbalanced quotes.
     */
    static List<String> splitArgs(String line) {
        List<String> words = new ArrayList<>();
        int i = 0;
        int n = line.length();
        while (true) {
            while (i < n && isSpace(line.charAt(i))) {
                i++;
            }
            if (i == n) {
                return words;
            }
            StringBuilder word = new StringBuilder();
            boolean inDouble = false;
            boolean inSingle = false;
            while (true) {
                if (i == n) {
                    if (inDouble || inSingle) {
                        return null;
                    }
                    break;
                }
                char c = line.charAt(i);
                if (inDouble) {
                    if (c == '\\' && i + 3 < n && line.charAt(i + 1) == 'x' && isHex(line.charAt(i + 2)) && isHex(line.charAt(i + 3))) {
                        word.append((char) Integer.parseInt(line.substring(i + 2, i + 4), 16));
                        i += 3;
                    } else if (c == '\\' && i + 1 < n) {
                        i++;
                        char e = line.charAt(i);
                        word.append(switch (e) {
                            case 'n' -> '\n';
                            case 'r' -> '\r';
                            case 't' -> '\t';
                            case 'b' -> '\b';
                            case 'a' -> (char) 7;
                            default -> e;
                        });
                    } else if (c == '"') {
                        if (i + 1 < n && !isSpace(line.charAt(i + 1))) {
                            return null;
                        }
                        i++;
                        break;
                    } else {
                        word.append(c);
                    }
                } else if (inSingle) {
                    if (c == '\\' && i + 1 < n && line.charAt(i + 1) == '\'') {
                        i++;
                        word.append('\'');
                    } else if (c == '\'') {
                        if (i + 1 < n && !isSpace(line.charAt(i + 1))) {
                            return null;
                        }
                        i++;
                        break;
                    } else {
                        word.append(c);
                    }
                } else if (isSpace(c)) {
                    break;
                } else if (c == '"') {
                    inDouble = true;
                } else if (c == '\'') {
                    inSingle = true;
                } else {
                    word.append(c);
                }
                i++;
            }
            words.add(word.toString());
        }
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0' || c == 0x0b || c == '\f';
    }

    private static boolean isHex(char c) {
        return Character.digit(c, 16) >= 0;
    }
}
