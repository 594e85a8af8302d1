package dev.wharf.upstream;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.wharf.config.HealthCheck;
import dev.wharf.config.HealthCheck.Role;
import io.netty.util.NetUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URLEncoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The active checks themselves: blocking, on a health-check thread, each bounded by the check's
 * timeout. A check passes by returning and fails by throwing {@link CheckFailed}, whose message
 * says what was wrong and never contains a password.
 */
final class Probes {
    /** How much of a reply is read at most: an HTTP head plus body, a Redis ROLE reply. */
    static final int MAX_REPLY = 64 * 1024;
    /** Used directly, not through DriverManager, whose registry is global and synchronized. */
    private static final org.postgresql.Driver POSTGRES = new org.postgresql.Driver();

    private Probes() {
    }

    /** A check that got an answer, and the answer was wrong. */
    static final class CheckFailed extends IOException {
        CheckFailed(String message) {
            super(message);
        }
    }

    /** Runs {@code check} against {@code target}; {@code host} is the endpoint as configured, for an HTTP Host header. */
    static void run(HealthCheck check, InetSocketAddress target, String host) throws Exception {
        long deadline = System.nanoTime() + check.timeout().toNanos();
        switch (check.type()) {
            case NONE -> throw new IllegalStateException("no check to run");
            case TCP -> {
                try (Socket ignored = connect(target, deadline)) {
                    // Connected: that is the whole check.
                }
            }
            case HTTP -> http(check, target, host, deadline);
            case REDIS -> redis(check, target, deadline);
            case POSTGRES -> postgres(check, target, deadline);
        }
    }

    private static Socket connect(InetSocketAddress target, long deadline) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(target, remainingMillis(deadline));
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    private static int remainingMillis(long deadline) throws SocketTimeoutException {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
            throw new SocketTimeoutException("timed out");
        }
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    // ---- http

    private static void http(HealthCheck check, InetSocketAddress target, String host, long deadline) throws Exception {
        boolean needBody = !check.expectBody().isEmpty();
        byte[] reply;
        try (Socket socket = connect(target, deadline)) {
            String request = check.method() + " " + check.path() + " HTTP/1.1\r\n"
                    + "Host: " + host + "\r\n"
                    + "User-Agent: wharf-health-check\r\n"
                    + "Accept: */*\r\n"
                    + "Connection: close\r\n\r\n";
            socket.getOutputStream().write(request.getBytes(ISO_8859_1));
            // Without a body to match, the status line is all that is needed.
            reply = read(socket, deadline, needBody ? null : "\r\n");
        }
        String text = new String(reply, ISO_8859_1);
        int lineEnd = text.indexOf("\r\n");
        String statusLine = lineEnd < 0 ? text : text.substring(0, lineEnd);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || !parts[1].matches("\\d{3}")) {
            throw new CheckFailed("not an HTTP response: " + printable(statusLine));
        }
        int status = Integer.parseInt(parts[1]);
        if (!check.expectStatus().contains(status)) {
            throw new CheckFailed("HTTP " + status + " (expected " + join(check) + ")");
        }
        if (needBody) {
            int bodyStart = text.indexOf("\r\n\r\n");
            String body = bodyStart < 0 ? "" : new String(reply, bodyStart + 4, reply.length - bodyStart - 4, UTF_8);
            if (!Pattern.compile(check.expectBody()).matcher(body).find()) {
                throw new CheckFailed("HTTP " + status + ", but the body does not match " + check.expectBody());
            }
        }
    }

    private static String join(HealthCheck check) {
        return check.expectStatus().size() == 1 ? check.expectStatus().get(0).toString() : check.expectStatus().toString();
    }

    // ---- redis

    private static void redis(HealthCheck check, InetSocketAddress target, long deadline) throws Exception {
        try (Socket socket = connect(target, deadline)) {
            OutputStream out = socket.getOutputStream();
            String password = password(check);
            if (password != null) {
                out.write(check.user().isEmpty() ? command("AUTH", password) : command("AUTH", check.user(), password));
                String auth = new String(read(socket, deadline, "\r\n"), UTF_8);
                if (!auth.startsWith("+OK")) {
                    throw new CheckFailed("AUTH refused: " + printable(auth));
                }
            }
            if (check.role() == Role.ANY) {
                out.write(command("PING"));
                String pong = new String(read(socket, deadline, "\r\n"), UTF_8);
                if (!pong.startsWith("+PONG")) {
                    throw new CheckFailed("PING answered " + printable(pong));
                }
                return;
            }
            out.write(command("ROLE"));
            // *3\r\n$6\r\nmaster\r\n... : the role is the first element of the array.
            String reply = new String(read(socket, deadline, "\r\n", 3), UTF_8);
            String[] lines = reply.split("\r\n", 4);
            if (lines.length < 3 || !lines[0].startsWith("*") || !lines[1].startsWith("$")) {
                throw new CheckFailed("ROLE answered " + printable(lines[0]));
            }
            String role = lines[2];
            boolean wanted = check.role() == Role.PRIMARY ? role.equals("master") : role.equals("slave");
            if (!wanted) {
                throw new CheckFailed("ROLE is " + printable(role) + " (expected "
                        + (check.role() == Role.PRIMARY ? "master" : "slave") + ")");
            }
        }
    }

    private static byte[] command(String... words) {
        StringBuilder resp = new StringBuilder("*").append(words.length).append("\r\n");
        for (String word : words) {
            resp.append('$').append(word.getBytes(UTF_8).length).append("\r\n").append(word).append("\r\n");
        }
        return resp.toString().getBytes(UTF_8);
    }

    // ---- postgres

    private static void postgres(HealthCheck check, InetSocketAddress target, long deadline) throws Exception {
        String host = target.getAddress().getHostAddress();
        String url = "jdbc:postgresql://" + NetUtil.toSocketAddressString(host, target.getPort())
                + "/" + URLEncoder.encode(check.database(), UTF_8);
        // pgjdbc's timeouts are whole seconds; the elapsed-time check in the caller holds the exact bound.
        String seconds = Long.toString(Math.max(1, (long) Math.ceil(remainingMillis(deadline) / 1000.0)));
        Properties props = new Properties();
        props.setProperty("user", check.user());
        String password = password(check);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("connectTimeout", seconds);
        props.setProperty("loginTimeout", seconds);
        props.setProperty("socketTimeout", seconds);
        props.setProperty("ApplicationName", "wharf-health-check");
        props.setProperty("sslmode", "disable");
        boolean inRecovery;
        try (Connection connection = POSTGRES.connect(url, props);
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT pg_is_in_recovery()")) {
            rows.next();
            inRecovery = rows.getBoolean(1);
        } catch (SQLException e) {
            throw new CheckFailed(e.getSQLState() == null ? e.getMessage() : e.getSQLState() + " " + e.getMessage());
        }
        if (check.role() == Role.PRIMARY && inRecovery) {
            throw new CheckFailed("in recovery (a standby; expected a primary)");
        }
        if (check.role() == Role.REPLICA && !inRecovery) {
            throw new CheckFailed("not in recovery (a primary; expected a standby)");
        }
    }

    /** The password, read now so that a rotated secret file is picked up; null when none is configured. */
    private static String password(HealthCheck check) throws CheckFailed {
        if (check.passwordFile() == null) {
            return null;
        }
        try {
            return Files.readString(Path.of(check.passwordFile()), UTF_8).strip();
        } catch (IOException e) {
            throw new CheckFailed("cannot read password-file " + check.passwordFile() + ": " + e.getClass().getSimpleName());
        }
    }

    // ---- reading

    private static byte[] read(Socket socket, long deadline, String until) throws IOException {
        return read(socket, deadline, until, 1);
    }

    /**
     * Reads until {@code until} has been seen {@code times} times, the peer closes, or {@link #MAX_REPLY}
     * bytes; each read waits no longer than the deadline allows. With {@code until} null, reads to the end.
     */
    private static byte[] read(Socket socket, long deadline, String until, int times) throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream reply = new ByteArrayOutputStream();
        byte[] chunk = new byte[4096];
        while (reply.size() < MAX_REPLY) {
            socket.setSoTimeout(remainingMillis(deadline));
            int n = in.read(chunk, 0, Math.min(chunk.length, MAX_REPLY - reply.size()));
            if (n < 0) {
                break;
            }
            reply.write(chunk, 0, n);
            if (until != null && occurrences(reply.toString(ISO_8859_1), until) >= times) {
                break;
            }
        }
        if (reply.size() == 0) {
            throw new CheckFailed("connection closed without a reply");
        }
        return reply.toByteArray();
    }

    private static int occurrences(String text, String what) {
        int count = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + what.length())) {
            count++;
        }
        return count;
    }

    /** A reply fragment fit for a log line: one line, at most 100 characters, control characters escaped. */
    private static String printable(String text) {
        String line = text.length() > 100 ? text.substring(0, 100) + "..." : text;
        StringBuilder out = new StringBuilder("\"");
        for (char c : line.toCharArray()) {
            out.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        }
        return out.append('"').toString();
    }
}
