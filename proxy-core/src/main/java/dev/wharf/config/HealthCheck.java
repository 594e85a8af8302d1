package dev.wharf.config;

import java.time.Duration;
import java.util.List;

/**
 * How a pool's endpoints are checked: {@code upstream.health-check}, over {@code wharf.defaults.health-check}.
 * Keys that do not apply to the {@link Type} are kept but unused (an http check has no {@code role}).
 *
 * @param downInterval the interval while an endpoint is down (HAProxy's downinter), so that a recovered or
 *                     newly promoted one is seen sooner; zero means {@code interval}
 * @param port         the port to check when an endpoint has no {@code check-port}; 0 means the endpoint's own
 * @param expectBody   a regular expression the http response body must contain a match of; empty: not checked
 * @param passwordFile where the redis/postgres password is read from at every check; null: no password.
 *                     The password itself is never held in the config, so it cannot reach a log or {@code /config}.
 */
public record HealthCheck(
        Type type,
        Duration interval,
        Duration downInterval,
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

    /** How long to wait before the next check of an endpoint that is up, or else down or not yet judged. */
    public Duration interval(boolean up) {
        return up || downInterval.isZero() ? interval : downInterval;
    }

    /** This check with another type. */
    public HealthCheck withType(Type newType) {
        return new HealthCheck(newType, interval, downInterval, timeout, rise, fall, jitter, port, method, path,
                expectStatus, expectBody, role, user, database, passwordFile);
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
