package dev.wharf.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * A client writing through a proxy while the database fails over: one thread that (re)connects, notes
 * which PostgreSQL served the session, then inserts {@code (proxy, seq)} in autocommit every ~20 ms.
 * On any error it records it, drops the connection, waits 50 ms and reconnects. Every seq is tried once:
 * an insert whose outcome is unknown (the connection broke during the commit) is never retried.
 */
final class FailoverWriter implements AutoCloseable {

    private static final long PAUSE_MS = 20;
    private static final long RECONNECT_PAUSE_MS = 50;

    /** A session: the PostgreSQL port that served it and whether that server was in recovery. */
    record Session(int id, long openedNanos, int serverPort, boolean inRecovery) {}

    /** An acknowledged insert. */
    record Ack(long seq, long atNanos, int session) {}

    /** An error, on connect (session -1) or on an open session. */
    record Failure(long atNanos, String sqlState, String message, int session) {
        @Override
        public String toString() {
            return sqlState + " " + message + (session < 0 ? " (connecting)" : " (session " + session + ")");
        }
    }

    private final String proxy;
    private final String url;
    private final Thread thread;
    private final List<Session> sessions = new ArrayList<>();
    private final List<Ack> acks = new ArrayList<>();
    private final List<Failure> failures = new ArrayList<>();
    private volatile boolean running = true;

    /** {@code proxy} is the label written with each row; {@code url} reaches PostgreSQL through the proxy. */
    FailoverWriter(String proxy, String url) {
        this.proxy = proxy;
        this.url = url;
        this.thread = new Thread(this::loop, "writer-" + proxy);
        thread.setDaemon(true);
    }

    String proxy() {
        return proxy;
    }

    FailoverWriter start() {
        thread.start();
        return this;
    }

    /** Stops the loop and waits for it; the connection is closed. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(10_000);
        if (thread.isAlive()) {
            throw new IllegalStateException("writer " + proxy + " did not stop");
        }
    }

    synchronized List<Session> sessions() {
        return List.copyOf(sessions);
    }

    synchronized List<Ack> acks() {
        return List.copyOf(acks);
    }

    synchronized List<Failure> failures() {
        return List.copyOf(failures);
    }

    private void loop() {
        Properties props = new Properties();
        props.setProperty("connectTimeout", "2");
        props.setProperty("socketTimeout", "5");
        props.setProperty("ApplicationName", "failover-writer-" + proxy);
        long seq = 0;
        int sessionId = -1;
        while (running) {
            int session = -1;
            try (Connection c = DriverManager.getConnection(url, props)) {
                session = ++sessionId;
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("select inet_server_port(), pg_is_in_recovery()")) {
                    rs.next();
                    record(new Session(session, System.nanoTime(), rs.getInt(1), rs.getBoolean(2)));
                }
                try (PreparedStatement insert = c.prepareStatement("INSERT INTO writes(proxy, seq) VALUES (?, ?)")) {
                    while (running) {
                        insert.setString(1, proxy);
                        insert.setLong(2, ++seq);
                        insert.executeUpdate();
                        record(new Ack(seq, System.nanoTime(), session));
                        Thread.sleep(PAUSE_MS);
                    }
                }
            } catch (SQLException e) {
                if (!running) {
                    return; // the error was ours: close() interrupted the statement
                }
                record(new Failure(System.nanoTime(), e.getSQLState(), String.valueOf(e.getMessage()), session));
                try {
                    Thread.sleep(RECONNECT_PAUSE_MS);
                } catch (InterruptedException stop) {
                    return;
                }
            } catch (InterruptedException stop) {
                return;
            }
        }
    }

    private synchronized void record(Session s) {
        sessions.add(s);
    }

    private synchronized void record(Ack a) {
        acks.add(a);
    }

    private synchronized void record(Failure f) {
        failures.add(f);
    }
}
