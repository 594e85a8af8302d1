package dev.wharf.it;

import dev.wharf.config.ConfigException;
import dev.wharf.config.ConfigParser;
import dev.wharf.server.WharfServer;
import dev.wharf.upstream.Resolver;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A real Wharf in the test JVM, built from HOCON, with its admin server on an ephemeral port. */
public final class TestWharf implements AutoCloseable {
    private static final String TEST_ADMIN = "wharf.admin { host = \"127.0.0.1\", port = 0 }\n";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final WharfServer server;

    private TestWharf(Resolver resolver) {
        server = new WharfServer(resolver);
    }

    public static TestWharf start(String hocon) throws ConfigException {
        return start(hocon, Resolver.SYSTEM);
    }

    /** A Wharf whose upstream DNS names are looked up by {@code resolver}. */
    public static TestWharf start(String hocon, Resolver resolver) throws ConfigException {
        TestWharf wharf = new TestWharf(resolver);
        try {
            wharf.server.start(parse(hocon), "test");
        } catch (ConfigException | RuntimeException e) {
            wharf.close();
            throw e;
        }
        return wharf;
    }

    public static dev.wharf.config.WharfConfig parse(String hocon) throws ConfigException {
        return ConfigParser.parse(TEST_ADMIN + hocon, "test");
    }

    public void apply(String hocon) throws ConfigException {
        server.apply(parse(hocon), "test");
    }

    public WharfServer server() {
        return server;
    }

    public int port(String listener) {
        return server.port(listener);
    }

    public HttpResponse<String> admin(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("admin request " + path + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A sample from {@code /metrics}, as a Prometheus scraper would read it. */
    public double metric(String name, String... labels) {
        return PrometheusText.value(admin("/metrics").body(), name, labels);
    }

    @Override
    public void close() {
        server.close();
    }
}
