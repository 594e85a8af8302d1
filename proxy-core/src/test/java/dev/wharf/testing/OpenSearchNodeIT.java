package dev.wharf.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.util.Arrays;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The fixture itself: a real OpenSearch node in a child JVM of its own classpath, killed and restarted. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenSearchNodeIT {

    @RegisterExtension
    static final OpenSearchNode NODE = new OpenSearchNode("wharf-fixture");

    @Test
    @Order(1)
    void answersAsItsOwnSingleNodeCluster() {
        String root = NODE.expectOk("GET", "/", null);
        assertTrue(root.contains("\"name\" : \"wharf-fixture-node\""), root);
        assertTrue(root.contains("\"cluster_name\" : \"wharf-fixture\""), root);
        assertTrue(root.contains("\"number\" : \"2.19.1\""), root);
        String health = NODE.health();
        assertTrue(health.equals("green") || health.equals("yellow"), health);
    }

    @Test
    @Order(2)
    void runsOnItsOwnNetty41ClasspathNotTheTests() {
        // given the classpath the fixture hands the child JVM
        String classpath = OpenSearchNode.classpath();
        // then it has OpenSearch's Netty 4.1 and none of the tests' Netty 4.2
        assertTrue(Arrays.stream(classpath.split(":")).anyMatch(e -> e.matches(".*/netty-codec-http-4\\.1\\.[^/]*\\.jar")), classpath);
        assertFalse(classpath.contains("4.2.18.Final"), classpath);
        assertFalse(classpath.contains("netty-all"), classpath);
        // and the test JVM itself has none of OpenSearch
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.opensearch.node.Node"));
    }

    @Test
    @Order(3)
    void indexesSearchesAndKeepsTheDocumentAcrossAKillAndRestart() {
        // given an indexed document
        NODE.expectOk("PUT", "/berths", "{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":0}}");
        NODE.expectOk("PUT", "/berths/_doc/7?refresh=true", "{\"ship\":\"Nordlys\",\"berth\":7}");

        // when searched
        String hits = NODE.expectOk("POST", "/berths/_search", "{\"query\":{\"match\":{\"ship\":\"nordlys\"}}}");

        // then it is found
        assertTrue(hits.contains("\"_id\":\"7\""), hits);
        assertTrue(hits.contains("\"value\":1"), hits);

        // when the node is killed like a crash
        int port = NODE.port();
        int transportPort = NODE.transportPort();
        long killedAt = System.nanoTime();
        NODE.kill();
        assertFalse(NODE.isRunning());
        assertThrows(UncheckedIOException.class, () -> NODE.send("GET", "/", null));

        // and started again
        NODE.start();
        System.out.printf("OpenSearch restart after kill: ready in %.1f s%n", (System.nanoTime() - killedAt) / 1e9);

        // then it serves on the same ports with the acknowledged document recovered from its translog
        assertEquals(port, NODE.port());
        assertEquals(transportPort, NODE.transportPort());
        HttpResponse<String> doc = NODE.send("GET", "/berths/_doc/7", null);
        assertEquals(200, doc.statusCode(), doc.body());
        assertTrue(doc.body().contains("\"ship\":\"Nordlys\""), doc.body());
        assertEquals(1, NODE.count("berths"));
    }
}
