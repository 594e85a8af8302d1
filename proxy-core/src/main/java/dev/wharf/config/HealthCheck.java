package dev.wharf.config;

import java.time.Duration;
import java.util.List;

/**
 * How a pool's endpoints are checked: {@code upstream.health-check}, over {@code wharf.defaults.health-check}.
 * Keys that do not apply to the {@link Type} are kept but unused (an http check has no {@code role}).
 *
 * @param port         the port to check when an endpoint has no {@code check-port}; 0 means the endpoint's own
 * @param expectBody   a regular expression the http response body must contain a match of; empty: not checked
 * @param passwordFile where the redis/postgres password is read from at every check; null: no password.
 *                     The password itself is never held in the config, so it cannot reach a log or {@code /config}.
 */
public record HealthCheck(
        Type type,
        Duration interval,
        Duration timeout,
        int rise,
        int fall,
        Duration jitter,
        int port,
        String method,
        String path,
        List<Integer> expectStatus,
        String expectBody,
        Role role,
        String user,
        String database,
        String passwordFile) {

    public HealthCheck {
        expectStatus = List.copyOf(expectStatus);
    }

    /** What a check does. */
    public enum Type implements ConfigChoice {
        /** No active check: endpoints are healthy unless passive ejection takes them out. */
        NONE,
        /** A TCP connect. */
        TCP,
        /** An HTTP/1.1 request whose status (and optionally body) must match. */
        HTTP,
        /** {@code PING}, or {@code ROLE} when a role is asked for. */
        REDIS,
        /** A PostgreSQL login and {@code SELECT pg_is_in_recovery()}. */
        POSTGRES
    }

    /** The role a redis or postgres endpoint must have to pass. */
    public enum Role implements ConfigChoice {
        ANY,
        /** A Redis master, a PostgreSQL server not in recovery. */
        PRIMARY,
        /** A Redis replica, a PostgreSQL standby. */
        REPLICA
    }
}
