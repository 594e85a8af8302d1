package dev.wharf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every scenario, about a second each, against the direct connection and a real Wharf process:
 * the run completes, each scenario reports for both targets, and the numbers are consistent.
 * No speed is asserted: speed is what the bench itself reports.
 */
class BenchSmokeTest {
    private static final Path WHARF_JAR = Path.of("..", "proxy-k8s", "target", "wharf.jar");

    @TempDir
    Path out;

    @Test
    void everyScenarioRunsAgainstDirectAndWharf() throws Exception {
        assertTrue(Files.isRegularFile(WHARF_JAR), WHARF_JAR + " is missing: run ./mvnw -B package (or verify) from the top first");
        // when
        new Bench(new BenchOptions(true, true, out, List.of("direct", "wharf"), List.of(), 1, WHARF_JAR, "")).run();

        // then the reports are written
        for (String file : List.of("results.json", "results.md", "throughput.png", "latency.png")) {
            assertTrue(Files.size(out.resolve(file)) > 0, file);
        }
        JsonNode results = new ObjectMapper().readTree(out.resolve("results.json").toFile()).get("results");
        Set<String> scenariosPerTarget = new TreeSet<>();
        for (JsonNode r : results) {
            String key = r.get("scenario").asText() + "/" + r.get("metric").asText();
            scenariosPerTarget.add(r.get("target").asText() + " " + key);
            double median = r.get("median").asDouble();
            String metric = r.get("metric").asText();
            // and every count is sane: rates, throughputs and latencies positive, errors none
            if (metric.equals("errors")) {
                assertEquals(0, median, key + " on " + r.get("target").asText());
            } else if (!metric.startsWith("memory") && !metric.endsWith("per-conn") && !metric.equals("cpu-per-GB")) {
                assertTrue(median > 0, key + " on " + r.get("target").asText() + " = " + median);
            }
        }
        // and each scenario reported for both targets
        for (String scenario : List.of("bulk-1-upload", "bulk-8-download", "rr-closed-64B", "rr-closed-4KiB", "rr-open-64B",
                "conn-rate", "idle", "redis-benchmark-P16", "redis-benchmark-c50", "pgbench")) {
            for (String target : List.of("direct", "wharf")) {
                assertTrue(scenariosPerTarget.stream().anyMatch(s -> s.startsWith(target + " " + scenario + "/")),
                        scenario + " has no result for " + target + " in " + scenariosPerTarget);
            }
        }
    }
}
