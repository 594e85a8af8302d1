package dev.wharf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.sun.net.httpserver.HttpServer;
import dev.wharf.testing.PostgresServer;
import dev.wharf.testing.RedisServer;
import dev.wharf.upstream.EndpointState;
import dev.wharf.upstream.EndpointState.Health;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisConnectionException;

/** Active health checks, passive ejection and DNS re-resolution, against real servers where one can run here. */
class HealthCheckIT {

    /** The listener's port; JUnit makes a new instance, so a new port, for every test. */
    private final int port = Clients.freePort();

    HealthCheckIT() throws java.io.IOException {
    }

    private String listener(String upstream) {
        return "wharf.listeners.db { port = " + port + ", host = \"127.0.0.1\", allow = [\"127.0.0.0/8\"], upstream { " + upstream
                + " } }\n";
    }

    private static List<EndpointState> endpoints(TestWharf wharf) {
        return wharf.server().listeners().get("db").pool().endpoints();
    }

    private static Health health(TestWharf wharf, int index) {
        return endpoints(wharf).get(index).health();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void theRedisRoleCheckSendsSessionsToTheMasterOnlyAndClosesThoseOnADemotedOne(@TempDir Path dir) throws Exception {
        try (RedisServer a = RedisServer.ipv4Only(); RedisServer b = RedisServer.ipv4Only()) {
            a.start();
            b.start();
            // given two password-protected servers, b a replica of a, and b listed first
            String password = "redis-pass-" + System.nanoTime();
            for (RedisServer r : List.of(a, b)) {
                try (Jedis j = r.jedis()) {
                    j.configSet("masterauth", password);
                    j.configSet("requirepass", password);
                }
            }
            replicaOf(b, a, password);
            Path passwordFile = Files.writeString(dir.resolve("redis-password"), password + "\n");
            ListAppender<ILoggingEvent> logs = captureLogs();
            try (TestWharf wharf = TestWharf.start(listener("balance = first-healthy, endpoints = [\"127.0.0.1:"
                    + b.port() + "\", \"127.0.0.1:" + a.port() + "\"], health-check { type = redis, role = primary,"
                    + " password-file = \"" + passwordFile + "\", interval = 200ms, rise = 1, fall = 1 },"
                    + " on-unhealthy = close-sessions"))) {
                // then the replica is down from the start, the master up, and sessions reach the master
                assertEquals(Health.DOWN, health(wharf, 0));
                assertEquals(Health.UP, health(wharf, 1));
                assertTrue(endpoints(wharf).get(0).lastCheck().contains("ROLE is \"slave\" (expected master)"),
                        endpoints(wharf).get(0).lastCheck());
                assertEquals(0.0, wharf.metric("wharf_upstream_healthy", "endpoint", "127.0.0.1:" + b.port()));
                assertEquals(1.0, wharf.metric("wharf_upstream_healthy", "endpoint", "127.0.0.1:" + a.port()));
                Jedis onA = throughWharf(wharf, password);
                assertEquals("OK", onA.set("k", "on-a"));
                assertEquals("master", onA.role().get(0));

                // when the roles swap (a Redis failover)
                replicaOf(b, null, password);
                replicaOf(a, b, password);

                // then the session on the demoted server is closed, and new ones go to the new master
                await("the session on the demoted master is closed", () -> {
                    try {
                        onA.ping();
                        return false;
                    } catch (JedisConnectionException closed) {
                        return true;
                    }
                });
                try (Jedis onB = throughWharf(wharf, password)) {
                    assertEquals("master", onB.role().get(0));
                    assertEquals("OK", onB.set("k", "on-b"));
                }
                assertTrue(wharf.admin("/upstreams").body().contains("ROLE is \\\"slave\\\" (expected master)"));
                // and the password is in no log line and not in /config
                assertFalse(wharf.admin("/config").body().contains(password));
                assertTrue(wharf.admin("/config").body().contains(passwordFile.toString()));
            } finally {
                ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
            }
            assertTrue(logs.list.stream().anyMatch(e -> e.getFormattedMessage().contains("is down")), "a down line");
            assertTrue(logs.list.stream().noneMatch(e -> e.toString().contains(password)
                    || String.valueOf(e.getKeyValuePairs()).contains(password)), "the password was logged");
        }
    }

    private static Jedis throughWharf(TestWharf wharf, String password) {
        Jedis jedis = new Jedis("127.0.0.1", wharf.port("db"));
        jedis.auth(password);
        return jedis;
    }

    /** Makes {@code replica} replicate {@code master}, or a master itself when that is null, and waits until it is. */
    private static void replicaOf(RedisServer replica, RedisServer master, String password) throws Exception {
        try (Jedis j = replica.jedis()) {
            j.auth(password);
            if (master == null) {
                j.replicaofNoOne();
            } else {
                j.replicaof("127.0.0.1", master.port());
            }
            await("ROLE of " + replica.port() + " has changed",
                    () -> j.role().get(0).equals(master == null ? "master" : "slave"));
        }
    }

    private static ListAppender<ILoggingEvent> captureLogs() {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(appender);
        return appender;
    }

    @Test
    void theTcpCheckTakesAKilledServerOutAtOnceAndBringsItBackAfterRise() throws Exception {
        try (RedisServer redis = RedisServer.ipv4Only()) {
            redis.start();
            try (TestWharf wharf = TestWharf.start(listener("endpoints = [\"127.0.0.1:" + redis.port() + "\"],"
                    + " health-check { type = tcp, interval = 100ms, rise = 3, fall = 1 }"))) {
                try (Jedis jedis = new Jedis("127.0.0.1", wharf.port("db"))) {
                    assertEquals("PONG", jedis.ping());
                }
                // when the server dies
                redis.kill();
                await("the endpoint is down", () -> health(wharf, 0) == Health.DOWN);
                // then a new session is refused at once, without waiting for a connect
                try (Socket client = Clients.connect(wharf.port("db"))) {
                    client.setSoTimeout(2000);
                    assertEquals(-1, client.getInputStream().read());
                }
                RelayIT.awaitMetric(wharf, 1.0, "wharf_connections_total", "outcome", "upstream_unavailable");
                assertEquals(0.0, wharf.metric("wharf_upstream_healthy", "listener", "db"));
                // when it comes back, it is up after rise = 3 passing checks
                redis.start();
                await("the endpoint is up again", () -> health(wharf, 0) == Health.UP);
                try (Jedis jedis = new Jedis("127.0.0.1", wharf.port("db"))) {
                    assertEquals("PONG", jedis.ping());
                }
                assertTrue(wharf.metric("wharf_health_checks_total", "result", "failed") >= 1);
                assertTrue(wharf.metric("wharf_health_checks_total", "result", "passed") >= 4);
            }
        }
    }

    /**
     * An HTTP check target that answers each request with the next status of a script, and notes the
     * endpoint's health as Wharf saw it when the request came (the verdict of every check before it).
     */
    private static final class ScriptedHttp implements AutoCloseable {
        final HttpServer server;
        final List<Integer> script = new CopyOnWriteArrayList<>();
        /** The health Wharf showed when request n came: its verdict after results 0..n-1. */
        final Map<Integer, Health> seen = new ConcurrentHashMap<>();
        final AtomicInteger served = new AtomicInteger();
        volatile String body = "{}";
        volatile TestWharf wharf;

        ScriptedHttp() throws Exception {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            server.createContext("/", exchange -> {
                int n = served.getAndIncrement();
                if (wharf != null) {
                    seen.put(n, health(wharf, 0));
                }
                int status = n < script.size() ? script.get(n) : script.get(script.size() - 1);
                byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(status, bytes.length);
                exchange.getResponseBody().write(bytes);
                exchange.close();
            });
            server.start();
        }

        int port() {
            return server.getAddress().getPort();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    @Test
    void aFlappingEndpointIsHeldUpByFallAndKeptDownByRise() throws Exception {
        try (TestUpstream echo = TestUpstream.echo(); ScriptedHttp check = new ScriptedHttp()) {
            // fall = 3, rise = 2: two failures in a row do not take it down, nor does one pass bring it back
            check.script.addAll(List.of(200, 503, 503, 200, 503, 503, 200, 503, 503, 503, 200, 503, 200, 200, 200));
            try (TestWharf wharf = TestWharf.start(listener("endpoints = [{ address = \"" + echo.address()
                    + "\", check-port = " + check.port() + " }], health-check { type = http, path = \"/primary\","
                    + " interval = 100ms, rise = 2, fall = 3 }"))) {
                // start() returned after the first result; the next check comes 100 ms later
                check.wharf = wharf;
                await("the script has been played", () -> check.served.get() > 15);
                List<Health> afterResults = new ArrayList<>();
                for (int n = 1; n <= 14; n++) {
                    afterResults.add(check.seen.get(n));
                }
                assertEquals(List.of(
                        Health.UP, Health.UP, Health.UP, Health.UP, Health.UP, Health.UP, Health.UP, Health.UP,
                        Health.UP, Health.DOWN, Health.DOWN, Health.DOWN, Health.DOWN, Health.UP), afterResults);
                assertEquals(Health.UP, health(wharf, 0));
            }
        }
    }

    @Test
    void anHttpCheckCanRequireABodyMatchAsForOpenSearchNotRed() throws Exception {
        try (TestUpstream echo = TestUpstream.echo(); ScriptedHttp health = new ScriptedHttp()) {
            health.script.add(200);
            health.body = "{\"cluster_name\":\"search\",\"status\":\"red\",\"timed_out\":false}";
            try (TestWharf wharf = TestWharf.start(listener("endpoints = [{ address = \"" + echo.address()
                    + "\", check-port = " + health.port() + " }], health-check { type = http, path = \"/_cluster/health\","
                    + " expect-body = \"\\\"status\\\"\\\\s*:\\\\s*\\\"(green|yellow)\\\"\", interval = 50ms, rise = 1,"
                    + " fall = 1 }"))) {
                assertEquals(Health.DOWN, health(wharf, 0));
                assertTrue(endpoints(wharf).get(0).lastCheck().startsWith("HTTP 200, but the body does not match"),
                        endpoints(wharf).get(0).lastCheck());
                health.body = "{\"cluster_name\":\"search\",\"status\" : \"yellow\",\"timed_out\":false}";
                await("yellow is up", () -> health(wharf, 0) == Health.UP);
            }
        }
    }

    @Test
    void thePostgresCheckLogsInWithItsPasswordFileAndChecksTheRole(@TempDir Path dir) throws Exception {
        try (PostgresServer pg = new PostgresServer()) {
            pg.start();
            // given a check user that must log in with a SCRAM password
            String password = "pg-pass-" + System.nanoTime();
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl()); Statement s = c.createStatement()) {
                s.execute("CREATE ROLE wharf_check LOGIN PASSWORD '" + password + "'");
            }
            Path hba = pg.dir().resolve("data/pg_hba.conf");
            Files.writeString(hba, "host all wharf_check 127.0.0.1/32 scram-sha-256\n" + Files.readString(hba));
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl()); Statement s = c.createStatement()) {
                s.execute("SELECT pg_reload_conf()");
            }
            Path passwordFile = Files.writeString(dir.resolve("pg-password"), password);
            String check = "health-check { type = postgres, user = wharf_check, password-file = \"" + passwordFile
                    + "\", interval = 100ms, rise = 1, fall = 1, role = %s }";
            try (TestWharf wharf = TestWharf.start(listener("endpoints = [\"127.0.0.1:" + pg.port() + "\"], "
                    + check.formatted("primary")))) {
                // then the primary passes, and clients reach it
                assertEquals(Health.UP, health(wharf, 0));
                try (Connection c = DriverManager.getConnection(pg.jdbcUrl("127.0.0.1", wharf.port("db")));
                     Statement s = c.createStatement()) {
                    assertTrue(s.execute("SELECT 1"));
                }
                // when the password file holds a wrong password, the login fails and the endpoint goes down
                Files.writeString(passwordFile, "wrong");
                await("a wrong password takes it down", () -> health(wharf, 0) == Health.DOWN);
                assertTrue(endpoints(wharf).get(0).lastCheck().contains("password authentication failed"),
                        endpoints(wharf).get(0).lastCheck());
                Files.writeString(passwordFile, password);
                await("the right password brings it back", () -> health(wharf, 0) == Health.UP);
                // when the check asks for a replica, a primary fails it
                wharf.apply(listener("endpoints = [\"127.0.0.1:" + pg.port() + "\"], " + check.formatted("replica")));
                assertEquals(Health.DOWN, health(wharf, 0));
                assertEquals("not in recovery (a primary; expected a standby)", endpoints(wharf).get(0).lastCheck());
                assertFalse(wharf.admin("/config").body().contains(password));
                assertFalse(wharf.admin("/upstreams").body().contains(password));
            }
        }
    }

    @Test
    void failedConnectsEjectAnEndpointWithoutAnyActiveCheck() throws Exception {
        try (TestUpstream echo = TestUpstream.echo()) {
            String refusing = "127.0.0.1:" + Clients.freePort();
            try (TestWharf wharf = TestWharf.start(listener("balance = first-healthy, endpoints = [\"" + refusing
                    + "\", \"" + echo.address() + "\"], eject-after = 2, eject-for = 1h"))) {
                // when sessions find the first endpoint refusing, they fall through to the second
                for (int i = 0; i < 4; i++) {
                    assertEchoes(wharf.port("db"));
                }
                // then after 2 failures the refusing one is ejected and no longer tried
                assertEquals(1.0, wharf.metric("wharf_upstream_ejections_total", "listener", "db"));
                assertEquals(0.0, wharf.metric("wharf_upstream_healthy", "endpoint", refusing));
                assertTrue(endpoints(wharf).get(0).ejected());
                assertTrue(wharf.admin("/upstreams").body().contains("\"ejected\" : true"));
            }
            // when no endpoint is left, a new session is refused at once and counted
            try (TestWharf wharf = TestWharf.start(listener("endpoints = [\"" + refusing + "\"], eject-after = 1,"
                    + " eject-for = 1h"))) {
                for (int i = 0; i < 3; i++) {
                    try (Socket client = Clients.connect(wharf.port("db"))) {
                        client.setSoTimeout(5000);
                        assertEquals(-1, client.getInputStream().read());
                    }
                }
                RelayIT.awaitMetric(wharf, 3.0, "wharf_connections_total", "outcome", "upstream_unavailable");
                assertEquals(1.0, wharf.metric("wharf_upstream_ejections_total", "listener", "db"));
            }
        }
    }

    private static void assertEchoes(int port) throws Exception {
        try (Socket s = Clients.connect(port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(7);
            assertEquals(7, s.getInputStream().read());
        }
    }

    @Test
    void aDnsNameThatResolvesToANewAddressMovesNewSessionsWithoutAConfigChange() throws Exception {
        int upstreamPort = Clients.freePort();
        try (TestUpstream old = TestUpstream.echoOn("127.0.0.2", upstreamPort);
             TestUpstream renewed = TestUpstream.echoOn("127.0.0.3", upstreamPort)) {
            Map<String, InetAddress> dns = new ConcurrentHashMap<>(Map.of("db.test", InetAddress.getByName("127.0.0.2")));
            try (TestWharf wharf = TestWharf.start(listener("endpoints = [\"db.test:" + upstreamPort + "\"],"
                    + " resolve-interval = 100ms"), host -> {
                        InetAddress address = dns.get(host);
                        if (address == null) {
                            throw new UnknownHostException(host);
                        }
                        return List.of(address);
                    });
                 Socket first = Clients.connect(wharf.port("db"))) {
                first.setSoTimeout(5000);
                first.getOutputStream().write(1);
                assertEquals(1, first.getInputStream().read());
                assertEquals(1, old.accepted());
                assertEquals(1.0, wharf.metric("wharf_upstream_healthy", "endpoint", "db.test:" + upstreamPort + "/127.0.0.2"));

                // when the Docker host comes back with a new address
                dns.put("db.test", InetAddress.getByName("127.0.0.3"));
                await("the new address is in the pool", () -> endpoints(wharf).get(0).id().endsWith("/127.0.0.3"));

                // then new sessions go there, and the live one stays where it was
                assertEchoes(wharf.port("db"));
                assertEquals(1, renewed.accepted());
                first.getOutputStream().write(2);
                assertEquals(2, first.getInputStream().read());
                assertThrows(AssertionError.class,
                        () -> wharf.metric("wharf_upstream_healthy", "endpoint", "db.test:" + upstreamPort + "/127.0.0.2"));
            }
        }
    }
}
