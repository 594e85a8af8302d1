package dev.wharf.protocol.redis;

import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commands a client sent whose replies have not arrived yet, oldest first: what the request
 * decoder tells the reply decoder, so that each top-level reply is matched to its command. Both
 * run on the session's event loop, so nothing here is locked.
 *
 * <p>The rules (Redis answers each command with exactly one top-level reply, except where said):
 * <ul>
 *   <li>Runs of commands that need nothing from their reply are one entry with a count, so a
 *       pipeline of a million GETs costs one entry. At most {@link #MAX_ENTRIES} entries are kept;
 *       a client that pipelines more interesting commands than that without reading a reply makes
 *       the session stop matching (logged), and its later topology replies pass unchanged.
 *       Neither growing without bound nor closing a working session is better.</li>
 *   <li>Pushes ({@code >}) and top-level attributes ({@code |}) answer no command.</li>
 *   <li>HELLO's reply, unless an error, switches the protocol to the version it asked for; RESET's
 *       switches back to RESP2.</li>
 *   <li>(P|S)SUBSCRIBE and (P|S)UNSUBSCRIBE: in RESP2 they answer with one reply per channel and
 *       the connection then gets messages that answer nothing, so matching stops when such a
 *       command is next to be answered. In RESP3 they are answered by pushes only (one
 *       confirmation per channel argument); their entry leaves the queue with the last of its
 *       confirmations, or with a plain reply, which is then its error (wrong arity, MOVED).</li>
 *   <li>MONITOR, and CLIENT REPLY OFF or SKIP, break the one-reply rule: matching stops when they
 *       are next (MONITOR's +OK and everything after it then pass unmatched).</li>
 *   <li>SYNC and PSYNC turn the connection into a replication stream, which is not framed as
 *       replies (the RDB payload has no CRLF): from there on bytes pass unparsed.</li>
 *   <li>A reply with no command waiting means this model of the connection is wrong: matching stops
 *       (logged) rather than guessing; the session goes on.</li>
 * </ul>
 * Once matching stops it does not resume for the connection; MOVED and ASK are rewritten all the
 * same, since they are recognised by their own bytes.
 */
final class PendingCommands {
    /** Entries (a run of uninteresting commands is one) kept before matching stops. */
    static final int MAX_ENTRIES = 65_536;

    private static final Logger LOG = LoggerFactory.getLogger(PendingCommands.class);

    enum Kind { OTHER, TOPOLOGY, HELLO, RESET, SUBSCRIBE, STOP, RAW }

    /** A command as far as its reply is concerned; for {@link Kind#OTHER}, a run of them. */
    static final class Command {
        static final Command OTHER = new Command(Kind.OTHER, null, 0, null, 1);
        static final Command RESET = new Command(Kind.RESET, null, 0, null, 1);
        static final Command STOP = new Command(Kind.STOP, null, 0, null, 1);
        static final Command RAW = new Command(Kind.RAW, null, 0, null, 1);

        final Kind kind;
        final Topology topology;
        final int helloVersion;
        final String pushKind;
        /** OTHER: commands in the run; SUBSCRIBE: confirmations still to come. */
        long count;

        private Command(Kind kind, Topology topology, int helloVersion, String pushKind, long count) {
            this.kind = kind;
            this.topology = topology;
            this.helloVersion = helloVersion;
            this.pushKind = pushKind;
            this.count = count;
        }

        static Command topology(Topology topology) {
            return new Command(Kind.TOPOLOGY, topology, 0, null, 1);
        }

        /** {@code version}: 2 or 3, or 0 when HELLO named none (or one Redis will refuse). */
        static Command hello(int version) {
            return new Command(Kind.HELLO, null, version, null, 1);
        }

        /** {@code kind}: the lower-case command name, which RESP3 confirmation pushes carry first. */
        static Command subscribe(String kind, long confirmations) {
            return new Command(Kind.SUBSCRIBE, null, 0, kind, confirmations);
        }

        @Override
        public String toString() {
            return kind == Kind.TOPOLOGY ? topology.command : kind.name();
        }
    }

    private final String listener;
    private final ArrayDeque<Command> queue = new ArrayDeque<>();
    private boolean matching = true;
    private boolean raw;
    private int protocol = 2;

    PendingCommands(String listener) {
        this.listener = listener;
    }

    /** The client sent {@code command} (called once its last byte is parsed, before it is passed on). */
    void sent(Command command) {
        if (!matching) {
            return;
        }
        Command tail = queue.peekLast();
        if (command.kind == Kind.OTHER && tail != null && tail.kind == Kind.OTHER) {
            tail.count++;
            return;
        }
        if (queue.size() >= MAX_ENTRIES) {
            stop("more than " + MAX_ENTRIES + " commands that need their reply are awaiting one");
            return;
        }
        queue.add(command.kind == Kind.OTHER ? new Command(Kind.OTHER, null, 0, null, 1) : command);
        settle();
    }

    /**
     * A top-level reply that is neither a push nor an attribute starts with {@code type}: returns
     * the command it answers, or null when matching has stopped.
     */
    Command reply(byte type) {
        if (!matching) {
            return null;
        }
        Command head = queue.peek();
        if (head == null) {
            stop("a reply arrived with no command awaiting one");
            return null;
        }
        Command answered = head;
        if (head.kind == Kind.OTHER) {
            answered = Command.OTHER;
            if (--head.count == 0) {
                queue.poll();
            }
        } else {
            queue.poll();
        }
        boolean error = type == '-' || type == '!';
        if (!error && answered.kind == Kind.HELLO && answered.helloVersion != 0) {
            protocol = answered.helloVersion;
        } else if (!error && answered.kind == Kind.RESET) {
            protocol = 2;
        }
        settle();
        return answered;
    }

    /** Whether the next top-level push may confirm a subscription: the reply decoder then reads its kind. */
    boolean awaitsConfirmation() {
        Command head = queue.peek();
        return matching && head != null && head.kind == Kind.SUBSCRIBE;
    }

    /** A top-level push arrived; {@code kind} is its first element if that is a short string, else null. */
    void push(String kind) {
        Command head = queue.peek();
        if (matching && head != null && head.kind == Kind.SUBSCRIBE && head.pushKind.equalsIgnoreCase(kind)
                && --head.count == 0) {
            queue.poll();
            settle();
        }
    }

    /** Whether replies are still matched to commands. */
    boolean matching() {
        return matching;
    }

    /** Whether the connection has become a replication stream: the reply decoder stops framing. */
    boolean raw() {
        return raw;
    }

    /** 2 or 3: the protocol the server speaks on this connection, as far as replies matched so far tell. */
    int protocol() {
        return protocol;
    }

    /** Acts on the command next to be answered when it breaks the one-reply rule. */
    private void settle() {
        for (Command head; matching && (head = queue.peek()) != null; ) {
            switch (head.kind) {
                case STOP -> stop(null);
                case RAW -> {
                    raw = true;
                    stop(null);
                }
                case SUBSCRIBE -> {
                    if (protocol == 2) {
                        stop(null);
                    }
                    return;
                }
                default -> {
                    return;
                }
            }
        }
    }

    /** Stops matching for good; {@code unexpected} is logged when it is not a rule's normal outcome. */
    private void stop(String unexpected) {
        matching = false;
        queue.clear();
        if (unexpected != null) {
            LOG.atWarn().addKeyValue("listener", listener)
                    .log("redis-cluster session stops matching replies to commands ({}): its topology replies pass unchanged from now on",
                            unexpected);
        }
    }
}
