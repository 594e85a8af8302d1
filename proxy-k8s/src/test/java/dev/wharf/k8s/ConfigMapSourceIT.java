package dev.wharf.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.config.WharfConfig;
import dev.wharf.it.PrometheusText;
import dev.wharf.server.WharfServer;
import dev.wharf.testing.RedisServer;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * A real Wharf (event loops, sockets, admin server) fed by the ConfigMap source from fabric8's mock
 * API server in CRUD mode, relaying to real Redis servers. The test plays kubectl through its own
 * client; Wharf has another. The API server runs on a fixed port so it can be stopped and started
 * again with the same objects (the CRUD dispatcher holds them).
 */
class ConfigMapSourceIT {
    @RegisterExtension
    static final RedisServer REDIS_A = RedisServer.ipv4Only();
    @RegisterExtension
    static final RedisServer REDIS_B = RedisServer.ipv4Only();

    private static final String NS = "apps";
    private static final String POD = "wharf-7d9f-abcde";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** fabric8 reconnects with exponential backoff; a generous bound, not a speed claim. */
    private static final Duration RECONNECT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private final KubernetesCrudDispatcher objects = new KubernetesCrudDispatcher();
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private KubernetesMockServer api;
    private int apiPort;
    private KubernetesClient kubectl;
    private KubernetesClient wharfClient;
    private WharfServer wharf;

    @BeforeEach
    void startApiServer() throws IOException {
        apiPort = freePort();
        api = startApi(apiPort);
        kubectl = api.createClient();
        // As Main builds it, but without the HTTP layer's own retries, so that a failed list or
        // watch reaches the informer, whose retry (with backoff, for ever) is what is under test.
        wharfClient = ConfigMapSource.newClient(new ConfigBuilder(Config.empty())
                .withMasterUrl("http://127.0.0.1:" + apiPort).withNamespace(NS)
                .withRequestRetryBackoffLimit(0).build());
    }

    @AfterEach
    void stopEverything() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
        kubectl.close();
        wharfClient.close();
        api.destroy();
    }

    private KubernetesMockServer startApi(int port) {
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                objects, false);
        server.init(InetAddress.getLoopbackAddress(), port);
        return server;
    }

    /** Starts Wharf as Main does with --kubernetes --namespace apps --config base.conf. */
    private void startWharf() throws Exception {
        Path base = Files.writeString(dir.resolve("base.conf"), """
                wharf {
                  admin { host = "127.0.0.1", port = 0 }
                  shutdown-delay = 0s
                  defaults { host = "127.0.0.1", allow = ["127.0.0.1/32"] }
                }
                """);
        WharfConfig initial = Fragments.merge(List.of(Fragment.ofFile(base.toString(), Files.readString(base))));
        wharf = new WharfServer();
        cleanup.add(wharf);
        wharf.start(new WharfConfig(initial.admin(), initial.runtime(), initial.kubernetes(), initial.shutdownDelay(),
                Map.of()),
                "startup", false);
        ConfigEvents events = new ConfigEvents(wharfClient, POD);
        cleanup.add(events);
        cleanup.add(ConfigMapSource.start(wharfClient, List.of(NS), base, wharf, events));
    }

    // ---- what a user does

    private static String redisListener(String name, int port, RedisServer redis) {
        return "listeners." + name + " { port = " + port + ", drain-timeout = 30s, upstream.endpoints = [\"127.0.0.1:"
                + redis.port() + "\"] }\n";
    }

    private ConfigMap apply(String name, Map<String, String> data) {
        ConfigMap cm = new ConfigMapBuilder()
                .withNewMetadata().withName(name).withNamespace(NS)
                    .addToLabels(ConfigMapSource.LABEL, ConfigMapSource.LABEL_VALUE).endMetadata()
                .withData(data).build();
        return kubectl.configMaps().inNamespace(NS).resource(cm).createOr(existing -> existing.update());
    }

    private static ConfigMap applyWith(KubernetesClient client, String name, Map<String, String> data) {
        ConfigMap cm = new ConfigMapBuilder()
                .withNewMetadata().withName(name).withNamespace(NS)
                    .addToLabels(ConfigMapSource.LABEL, ConfigMapSource.LABEL_VALUE).endMetadata()
                .withData(data).build();
        return client.configMaps().inNamespace(NS).resource(cm).createOr(existing -> existing.update());
    }

    private List<Event> eventsOn(String configMap) {
        return kubectl.v1().events().inNamespace(NS).list().getItems().stream()
                .filter(e -> configMap.equals(e.getInvolvedObject().getName())).toList();
    }

    // ---- what a user sees

    private static Jedis client(int port) {
        return new Jedis("127.0.0.1", port, 5_000);
    }

    private static String ping(int port) {
        try (Jedis jedis = client(port)) {
            return jedis.ping();
        }
    }

    private static String get(int port, String key) {
        try (Jedis jedis = client(port)) {
            return jedis.get(key);
        }
    }

    private int readyz() {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + wharf.adminPort() + "/readyz"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
        } catch (IOException e) {
            throw new AssertionError("/readyz did not answer", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private double rejectedReloads() throws Exception {
        String scrape = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + wharf.adminPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        return PrometheusText.value(scrape, "wharf_config_reloads_total", "outcome", "rejected");
    }

    private static void assertUnbound(int port) {
        assertThrows(ConnectException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            }
        }, "port " + port + " still accepts connections");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    interface Check {
        void run() throws Exception;
    }

    /** Retries {@code check} until it passes or {@code within} has gone by; then fails with its last error. */
    private static void eventually(Duration within, Check check) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            try {
                check.run();
                return;
            } catch (Exception | AssertionError e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    private void awaitReady() throws Exception {
        eventually(Duration.ofSeconds(10), () -> assertEquals(200, readyz()));
    }

    // ---- the proof

    @Test
    void creatingAConfigMapBringsUpAListenerThatRelaysToRedisWithinTwoSeconds() throws Exception {
        // given a Wharf that has listed an empty namespace
        startWharf();
        awaitReady();
        assertTrue(wharf.listeners().isEmpty());
        int port = freePort();
        // when
        apply("redis-routes", Map.of("redis.conf", redisListener("redis", port, REDIS_A)));
        // then
        eventually(Duration.ofSeconds(2), () -> {
            try (Jedis jedis = client(port)) {
                assertEquals("PONG", jedis.ping());
            }
        });
        try (Jedis jedis = client(port)) {
            assertEquals("OK", jedis.set("created", "through-wharf"));
            assertEquals("through-wharf", jedis.get("created"));
        }
        try (Jedis direct = REDIS_A.jedis()) {
            assertEquals("through-wharf", direct.get("created"));
        }
        assertEquals(List.of("redis"), List.copyOf(wharf.listeners().keySet()));
    }

    /**
     * Starts Wharf with a ConfigMap listener "redis" whose upstream is A, where key "route" reads "a"
     * (and "b" on B); returns its port once a client reads "a" through it.
     */
    private int listenerRoutingToA() throws Exception {
        try (Jedis a = REDIS_A.jedis(); Jedis b = REDIS_B.jedis()) {
            a.set("route", "a");
            b.set("route", "b");
        }
        startWharf();
        int port = freePort();
        apply("redis-routes", Map.of("redis.conf", redisListener("redis", port, REDIS_A)));
        awaitReady();
        eventually(Duration.ofSeconds(5), () -> assertEquals("a", get(port, "route")));
        return port;
    }

    @Test
    void anUpdateChangesTheRoutes() throws Exception {
        // given a listener that routes to A
        int port = listenerRoutingToA();
        // when the ConfigMap points it at B
        apply("redis-routes", Map.of("redis.conf", redisListener("redis", port, REDIS_B)));
        // then new sessions reach B, on the same port
        eventually(Duration.ofSeconds(5), () -> assertEquals("b", get(port, "route")));
        assertEquals(port, wharf.port("redis"));
    }

    @Test
    void deletingTheConfigMapDrainsTheListenerAndUnbindsItsPort() throws Exception {
        // given a listener with an open session
        startWharf();
        int port = freePort();
        apply("redis-routes", Map.of("redis.conf", redisListener("redis", port, REDIS_A)));
        awaitReady();
        eventually(Duration.ofSeconds(5), () -> assertEquals("PONG", ping(port)));
        try (Jedis session = client(port)) {
            assertEquals("PONG", session.ping());
            // when
            kubectl.configMaps().inNamespace(NS).withName("redis-routes").delete();
            // then the port is given up, while the open session drains (drain-timeout = 30s)
            eventually(Duration.ofSeconds(5), () -> assertUnbound(port));
            assertFalse(wharf.listeners().containsKey("redis"));
            assertEquals("PONG", session.ping());
            assertEquals("OK", session.set("drained", "yes"));
        }
        assertEquals(200, readyz());
    }

    @Test
    void anInvalidConfigMapGetsAnEventAndTheOldRoutesKeepWorking() throws Exception {
        // given a working listener
        startWharf();
        int port = freePort();
        ConfigMap good = apply("redis-routes", Map.of("redis.conf", redisListener("redis", port, REDIS_A)));
        awaitReady();
        eventually(Duration.ofSeconds(5), () -> assertEquals("PONG", ping(port)));
        long generation = wharf.current().generation();
        assertEquals(0.0, rejectedReloads());
        // when another ConfigMap holds a listener on a port that cannot exist
        ConfigMap bad = apply("broken", Map.of("extra.conf",
                "listeners.extra { port = 99999, upstream.endpoints = [\"127.0.0.1:1\"] }",
                "README.md", "not a fragment: ignored"));
        // then the broken ConfigMap gets a Warning Event that names the path and the error
        eventually(Duration.ofSeconds(10), () -> assertEquals(1, eventsOn("broken").size()));
        Event event = eventsOn("broken").get(0);
        assertEquals("Warning", event.getType());
        assertEquals("InvalidConfig", event.getReason());
        assertEquals("extra.conf: wharf.listeners.extra.port: 99999 (expected: 1-65535)", event.getMessage());
        assertEquals("ConfigMap", event.getInvolvedObject().getKind());
        assertEquals(NS, event.getInvolvedObject().getNamespace());
        assertEquals(bad.getMetadata().getUid(), event.getInvolvedObject().getUid());
        assertEquals(bad.getMetadata().getResourceVersion(), event.getInvolvedObject().getResourceVersion());
        assertEquals("wharf", event.getSource().getComponent());
        assertEquals("wharf", event.getReportingComponent());
        assertEquals(POD, event.getReportingInstance());
        assertEquals(NS, event.getMetadata().getNamespace());
        // and only it: the good one is not to blame
        assertEquals(List.of(), eventsOn(good.getMetadata().getName()));
        // and the update was counted as rejected, while the old routes keep serving
        assertEquals(1.0, rejectedReloads());
        assertEquals(generation, wharf.current().generation());
        try (Jedis jedis = client(port)) {
            assertEquals("PONG", jedis.ping());
        }
        assertEquals(200, readyz());
    }

    @Test
    void twoConfigMapsClaimingOnePortBothGetEventsAndNothingChanges() throws Exception {
        // given one ConfigMap's listener in force
        startWharf();
        int port = freePort();
        apply("team-a", Map.of("cache.conf", redisListener("cache", port, REDIS_A)));
        awaitReady();
        eventually(Duration.ofSeconds(5), () -> assertEquals("PONG", ping(port)));
        long generation = wharf.current().generation();
        // when another ConfigMap claims the same port for a listener of its own
        apply("team-b", Map.of("sessions.conf", redisListener("sessions", port, REDIS_B)));
        // then both ConfigMaps get an Event
        eventually(Duration.ofSeconds(10), () -> {
            assertEquals(1, eventsOn("team-a").size());
            assertEquals(1, eventsOn("team-b").size());
        });
        String expected = "wharf.listeners.sessions.port: " + port + " is already used by listener \"cache\" in "
                + NS + "/team-a:cache.conf (expected: a port no other listener uses)";
        assertEquals("cache.conf: " + expected, eventsOn("team-a").get(0).getMessage());
        assertEquals("sessions.conf: " + expected, eventsOn("team-b").get(0).getMessage());
        // and nothing changed
        assertEquals(1.0, rejectedReloads());
        assertEquals(generation, wharf.current().generation());
        assertEquals(List.of("cache"), List.copyOf(wharf.listeners().keySet()));
        try (Jedis jedis = client(port); Jedis a = REDIS_A.jedis()) {
            a.set("owner", "a");
            assertEquals("a", jedis.get("owner"));
        }
    }

    @Test
    void whileTheApiServerIsDownWharfKeepsRelayingThenCatchesUp() throws Exception {
        // given a listener routing to A, and a session open through it
        int port = listenerRoutingToA();
        try (Jedis session = client(port)) {
            // when the API server goes away
            api.destroy();
            // then Wharf keeps relaying, for open and new sessions, and stays ready
            for (int i = 0; i < 10; i++) {
                assertEquals("PONG", session.ping());
                assertEquals("a", get(port, "route"));
                assertEquals(200, readyz());
                Thread.sleep(100);
            }
            // when a change is made while Wharf cannot see the API server (through another
            // server on the same objects)
            KubernetesMockServer elsewhere = startApi(freePort());
            try (KubernetesClient other = elsewhere.createClient()) {
                applyWith(other, "redis-routes", Map.of("redis.conf", redisListener("redis", port, REDIS_B)));
            } finally {
                elsewhere.destroy();
            }
            Thread.sleep(500);
            assertEquals("a", get(port, "route"));
            // and the API server comes back
            api = startApi(apiPort);
            // then Wharf lists again and applies the change made in the gap
            eventually(RECONNECT, () -> assertEquals("b", get(port, "route")));
            assertEquals("PONG", session.ping());
        }
        // and it keeps watching: a change made after the reconnect is applied too
        int second = freePort();
        apply("more-routes", Map.of("more.conf", redisListener("more", second, REDIS_A)));
        eventually(Duration.ofSeconds(10), () -> assertEquals("a", get(second, "route")));
        assertEquals(200, readyz());
        assertEquals(0.0, rejectedReloads());
    }

    @Test
    void startedWithTheApiServerDownItIsNotReadyUntilTheFirstListThenServes() throws Exception {
        // given a ConfigMap, and an API server that is down when Wharf starts
        int port = freePort();
        apply("redis-routes", Map.of("redis.conf", redisListener("redis", port, REDIS_A)));
        api.destroy();
        startWharf();
        // then Wharf is up but not ready, with nothing bound
        for (int i = 0; i < 10; i++) {
            assertEquals(503, readyz());
            Thread.sleep(100);
        }
        assertUnbound(port);
        // when the API server comes up
        api = startApi(apiPort);
        // then the first list brings the listener, and readiness
        eventually(RECONNECT, () -> assertEquals(200, readyz()));
        try (Jedis jedis = client(port)) {
            assertEquals("PONG", jedis.ping());
        }
    }
}
