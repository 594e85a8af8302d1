package dev.wharf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** The admin endpoints, read as an operator or a Prometheus scraper would. */
class AdminIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void endpointsAnswer() throws Exception {
        try (TestUpstream one = TestUpstream.echo(); TestUpstream two = TestUpstream.echo();
             TestWharf wharf = TestWharf.start(RelayIT.listener("pg", Clients.freePort(),
                     "upstream.balance = least-connections,", one.address(), two.address()));
             Socket session = Clients.connect(wharf.port("pg"))) {
            session.getOutputStream().write(1);
            assertEquals(1, session.getInputStream().read());

            assertEquals(200, wharf.admin("/healthz").statusCode());
            assertEquals(200, wharf.admin("/readyz").statusCode());

            JsonNode config = JSON.readTree(wharf.admin("/config").body());
            assertEquals(1, config.get("generation").asInt());
            assertEquals("test", config.get("source").asText());
            JsonNode pg = config.at("/wharf/listeners/pg");
            assertEquals(wharf.port("pg"), pg.get("port").asInt());
            assertEquals("least-connections", pg.at("/upstream/balance").asText());
            assertEquals(one.address(), pg.at("/upstream/endpoints/0").asText());
            assertEquals("[\"127.0.0.0/8\",\"::1\"]", pg.get("allow").toString());
            assertEquals("off", pg.get("proxy-protocol").asText());
            assertEquals("[]", pg.get("trusted-proxies").toString());
            assertTrue(pg.get("splice").asBoolean());

            JsonNode upstreams = JSON.readTree(wharf.admin("/upstreams").body()).at("/listeners/pg");
            assertEquals(1, upstreams.get("active-sessions").asInt());
            int active = upstreams.at("/endpoints/0/active-sessions").asInt() + upstreams.at("/endpoints/1/active-sessions").asInt();
            assertEquals(1, active);
            assertTrue(upstreams.at("/endpoints/0/healthy").asBoolean());

            assertEquals(404, wharf.admin("/nope").statusCode());
            HttpResponse<String> post = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + wharf.server().adminPort() + "/config"))
                            .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());
        }
    }

    @Test
    void metricsCarryTheDocumentedNames() throws Exception {
        try (TestUpstream echo = TestUpstream.echo();
             TestWharf wharf = TestWharf.start(RelayIT.listener("pg", Clients.freePort(), "", echo.address()))) {
            try (Socket session = Clients.connect(wharf.port("pg"))) {
                session.getOutputStream().write(new byte[10]);
                session.getInputStream().readNBytes(10);
                assertEquals(1, wharf.metric("wharf_connections_active", "listener", "pg"));
            }
            RelayIT.awaitMetric(wharf, 0, "wharf_connections_active", "listener", "pg");
            String scrape = wharf.admin("/metrics").body();
            assertEquals(1, PrometheusText.value(scrape, "wharf_connections_total", "listener", "pg", "outcome", "accepted"));
            assertEquals(0, PrometheusText.value(scrape, "wharf_connections_total", "listener", "pg", "outcome", "denied"));
            assertEquals(10, PrometheusText.value(scrape, "wharf_bytes_total", "listener", "pg", "direction", "to_upstream"));
            assertEquals(10, PrometheusText.value(scrape, "wharf_bytes_total", "listener", "pg", "direction", "to_client"));
            assertEquals(1, PrometheusText.value(scrape, "wharf_upstream_connect_seconds_count", "listener", "pg"));
            assertEquals(1, PrometheusText.value(scrape, "wharf_session_seconds_count", "listener", "pg"));
            assertTrue(scrape.contains("wharf_session_seconds_bucket{"), "session histogram has buckets");
            assertEquals(1, PrometheusText.value(scrape, "wharf_upstream_healthy", "listener", "pg", "endpoint", echo.address()));
            assertEquals(1, PrometheusText.value(scrape, "wharf_config_reloads_total", "outcome", "applied"));
            assertEquals(0, PrometheusText.value(scrape, "wharf_config_reloads_total", "outcome", "rejected"));
            assertEquals(1, PrometheusText.value(scrape, "wharf_config_generation"));
            assertTrue(PrometheusText.value(scrape, "netty_allocator_memory_used", "memory_type", "direct") >= 0);
            assertTrue(PrometheusText.value(scrape, "jvm_memory_used_bytes", "area", "heap") > 0);
        }
    }
}
