package dev.wharf.bench.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wharf.bench.model.Result;
import dev.wharf.bench.model.RunInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportsTest {
    private static final List<String> CHARTS = List.of("throughput.png", "latency.png", "requests.png");

    private static final RunInfo INFO = new RunInfo(Instant.parse("2025-03-01T12:34:56Z"), "bench-1 (Ryzen 9 7950X, 64 GiB)",
            32, "6.8.0-45-generic", "17.0.15", false, 3, List.of("direct", "wharf", "haproxy"),
            List.of("loopback only", "CPU governor: performance"));

    /** Three rounds per (scenario, target, metric); samples are given per target in direct, wharf, haproxy order. */
    private static final List<Result> RESULTS = List.of(
            result("bulk-1-upload", "direct", "throughput", "Gbit/s", 15.5, 16, 16.4),
            result("bulk-1-upload", "wharf", "throughput", "Gbit/s", 7.9, 8, 8.3),
            result("bulk-1-upload", "haproxy", "throughput", "Gbit/s", 9.6, 10, 10.2),
            result("bulk-1-upload", "direct", "cpu-per-GB", "s/GB", 0.1, 0.1, 0.1),
            result("bulk-1-upload", "wharf", "cpu-per-GB", "s/GB", 0.5, 0.52, 0.55),
            result("bulk-1-upload", "haproxy", "cpu-per-GB", "s/GB", 0.6, 0.65, 0.7),
            result("bulk-8-download", "direct", "throughput", "Gbit/s", 40, 41, 42),
            result("bulk-8-download", "wharf", "throughput", "Gbit/s", 30, 31, 32),
            result("bulk-8-download", "haproxy", "throughput", "Gbit/s", 33, 34, 35),
            result("rr-closed-64B", "direct", "rate", "req/s", 118000, 123456, 125000),
            result("rr-closed-64B", "wharf", "rate", "req/s", 90000, 92000, 93000),
            result("rr-closed-64B", "haproxy", "rate", "req/s", 99000, 100000, 101000),
            result("rr-closed-64B", "direct", "p50", "µs", 20, 21, 22),
            result("rr-closed-64B", "wharf", "p50", "µs", 30, 31, 33),
            result("rr-closed-64B", "haproxy", "p50", "µs", 28, 29, 30),
            result("rr-closed-64B", "direct", "p99", "µs", 60, 62, 65),
            result("rr-closed-64B", "wharf", "p99", "µs", 80, 85, 90),
            result("rr-closed-64B", "haproxy", "p99", "µs", 90, 100, 110),
            result("rr-closed-64B", "direct", "p99.9", "µs", 300, 400, 500),
            result("rr-closed-64B", "wharf", "p99.9", "µs", 900, 1000, 1200),
            result("rr-closed-64B", "haproxy", "p99.9", "µs", 800, 900, 950),
            result("conn-rate", "direct", "rate", "conn/s", 20000, 21000, 22000),
            result("conn-rate", "wharf", "rate", "conn/s", 9000, 9500, 9800),
            result("conn-rate", "haproxy", "rate", "conn/s", 11000, 12000, 12500),
            result("idle", "wharf", "memory-per-conn", "bytes", 3000, 3100, 3200),
            result("idle", "haproxy", "memory-per-conn", "bytes", 16000, 16500, 17000),
            result("idle", "wharf", "connections", "count", 10000, 10000, 10000),
            result("idle", "haproxy", "connections", "count", 10000, 10000, 10000),
            result("redis-benchmark-P16", "direct", "GET", "kops/s", 900, 950, 1000),
            result("redis-benchmark-P16", "wharf", "GET", "kops/s", 700, 720, 760),
            result("redis-benchmark-P16", "haproxy", "GET", "kops/s", 650, 700, 710),
            result("pgbench", "direct", "tps", "tx/s", 15000, 15500, 16000),
            result("pgbench", "wharf", "tps", "tx/s", 14000, 14200, 14500),
            result("pgbench", "haproxy", "tps", "tx/s", 13900, 14000, 14100));

    @TempDir
    Path dir;

    private static Result result(String scenario, String target, String metric, String unit, double... samples) {
        double[] sorted = samples.clone();
        Arrays.sort(sorted);
        return new Result(scenario, target, metric, unit, sorted[sorted.length / 2], sorted[0],
                sorted[sorted.length - 1], Arrays.stream(samples).boxed().toList());
    }

    private static List<Result> only(Set<String> targets) {
        return RESULTS.stream().filter(r -> targets.contains(r.target())).toList();
    }

    private static List<Result> scenarios(Set<String> scenarios) {
        return RESULTS.stream().filter(r -> scenarios.contains(r.scenario())).toList();
    }

    private String markdown() throws IOException {
        return Files.readString(dir.resolve("results.md"));
    }

    /** The table line whose first cell is {@code label}, in the section headed {@code ## section}. */
    private String row(String section, String label) throws IOException {
        String md = markdown();
        String table = md.substring(md.indexOf("\n## " + section + "\n"));
        int start = table.indexOf("\n| " + label + " |") + 1;
        assertTrue(start > 0, () -> "no row " + label + " in " + section);
        return table.substring(start, table.indexOf('\n', start));
    }

    @Test
    void jsonHoldsRunInfoAndEverySample() throws IOException {
        Reports.write(dir, INFO, RESULTS);

        ObjectMapper mapper = new ObjectMapper();
        JsonNode root = mapper.readTree(dir.resolve("results.json").toFile());
        JsonNode run = root.get("run");
        assertEquals("2025-03-01T12:34:56Z", run.get("started").asText());
        assertEquals(INFO.machine(), run.get("machine").asText());
        assertEquals(32, run.get("cpus").asInt());
        assertEquals(INFO.kernel(), run.get("kernel").asText());
        assertEquals(INFO.java(), run.get("java").asText());
        assertFalse(run.get("quick").asBoolean());
        assertEquals(3, run.get("rounds").asInt());
        assertEquals(INFO.targets(), mapper.convertValue(run.get("targets"), List.class));
        assertEquals(INFO.notes(), mapper.convertValue(run.get("notes"), List.class));

        List<Result> back = mapper.readerForListOf(Result.class).readValue(root.get("results"));
        assertEquals(RESULTS, back); // Record equality covers every field and every sample.
    }

    @Test
    void markdownHasRunHeaderArrowsAndRatiosOfMedians() throws IOException {
        Reports.write(dir, INFO, RESULTS);
        String md = markdown();

        assertTrue(md.startsWith("# Wharf benchmark results — 2025-03-01 12:34 UTC\n"), md);
        assertTrue(md.contains("- Machine: bench-1 (Ryzen 9 7950X, 64 GiB), 32 CPUs\n"));
        assertTrue(md.contains("- Kernel: 6.8.0-45-generic\n"));
        assertTrue(md.contains("- Java: 17.0.15\n"));
        assertTrue(md.contains("- Mode: full run, 3 rounds per measurement\n"));
        assertTrue(md.contains("  - loopback only\n  - CPU governor: performance\n"));
        assertTrue(md.contains("same run"));

        // wharf 8 vs direct 16 → 0.50×, vs haproxy 10 → 0.80×; haproxy vs direct 10/16 → 0.63×.
        assertEquals("| throughput ↑ (Gbit/s) | 16 (15.5–16.4) | 8 (7.90–8.30) | 0.50× | 0.80× "
                + "| 10 (9.60–10.2) | 0.63× |", row("bulk-1-upload", "throughput ↑ (Gbit/s)"));
        // Lower is better: wharf's 0.52 s/GB beats haproxy's 0.65, so it gets the marker; all-equal rounds show no range.
        assertEquals("| cpu-per-GB ↓ (s/GB) | 0.100 | 0.520 (0.500–0.550) | 5.20× | 0.80× ✓ "
                + "| 0.650 (0.600–0.700) | 6.50× |", row("bulk-1-upload", "cpu-per-GB ↓ (s/GB)"));
        assertEquals("| rate ↑ (req/s) | 123,000 (118,000–125,000) | 92,000 (90,000–93,000) | 0.75× | 0.92× "
                + "| 100,000 (99,000–101,000) | 0.81× |", row("rr-closed-64B", "rate ↑ (req/s)"));
        assertTrue(row("rr-closed-64B", "p99 ↓ (µs)").contains("| 0.85× ✓ |"));
        // Neutral metric: no arrow and no marker even though the numbers are equal or differ.
        assertEquals("| connections (count) | 10,000 | 1.00× | 10,000 |", row("idle", "connections (count)"));
        // No direct in the idle scenario: only the haproxy ratio column.
        assertTrue(row("idle", "memory-per-conn ↓ (bytes)").endsWith("| 3,100 (3,000–3,200) | 0.19× ✓ | 16,500 (16,000–17,000) |"));
    }

    @Test
    void headlineIsTheSummaryTableAtTheTopOfTheReport() throws IOException {
        Reports.write(dir, INFO, RESULTS);
        String headline = Reports.headlineMarkdown(INFO, RESULTS);

        assertTrue(headline.startsWith("| Metric | direct | wharf | wharf vs direct | wharf vs haproxy | haproxy | haproxy vs direct |\n"),
                headline);
        assertTrue(headline.contains("| bulk-1-upload throughput ↑ (Gbit/s) | 16 | 8 | 0.50× | 0.80× | 10 | 0.63× |\n"));
        assertTrue(headline.contains("| pgbench tps ↑ (tx/s) | 15,500 | 14,200 | 0.92× | 1.01× ✓ | 14,000 | 0.90× |\n"));
        assertEquals(7, headline.lines().count() - 2, headline); // Seven key numbers, one row each.
        assertFalse(headline.contains("bulk-8-download"));
        assertTrue(markdown().contains("## Headline\n\n" + headline));
    }

    @Test
    void chartsAreThousandBySixHundredPngs() throws IOException {
        Reports.write(dir, INFO, RESULTS);
        for (String chart : CHARTS) {
            BufferedImage image = ImageIO.read(dir.resolve(chart).toFile());
            assertNotNull(image, chart);
            assertEquals(1000, image.getWidth(), chart);
            assertEquals(600, image.getHeight(), chart);
        }
    }

    @Test
    void withoutHaproxyThereAreNoHaproxyColumns() throws IOException {
        List<Result> results = only(Set.of("direct", "wharf"));
        Reports.write(dir, INFO, results);

        assertFalse(markdown().contains("vs haproxy"));
        assertFalse(Reports.headlineMarkdown(INFO, results).contains("vs haproxy"));
        assertEquals("| throughput ↑ (Gbit/s) | 16 (15.5–16.4) | 8 (7.90–8.30) | 0.50× |",
                row("bulk-1-upload", "throughput ↑ (Gbit/s)"));
        for (String chart : CHARTS) {
            assertNotNull(ImageIO.read(dir.resolve(chart).toFile()), chart);
        }
    }

    @Test
    void missingScenariosSkipTheirCharts() throws IOException {
        Reports.write(dir, INFO, scenarios(Set.of("bulk-1-upload", "idle")));

        assertTrue(Files.exists(dir.resolve("throughput.png")));
        assertFalse(Files.exists(dir.resolve("latency.png")));
        assertFalse(Files.exists(dir.resolve("requests.png")));
    }

    @Test
    void aRerunWithoutTheDataRemovesTheOldChart() throws IOException {
        Reports.write(dir, INFO, RESULTS);
        assertTrue(Files.exists(dir.resolve("latency.png")));

        Reports.write(dir, INFO, scenarios(Set.of("bulk-1-upload")));
        assertFalse(Files.exists(dir.resolve("latency.png")));
        assertTrue(Files.exists(dir.resolve("throughput.png")));
    }

    @Test
    void requestsChartNeedsDirect() throws IOException {
        Reports.write(dir, INFO, only(Set.of("wharf", "haproxy")));

        assertTrue(Files.exists(dir.resolve("latency.png")));
        assertFalse(Files.exists(dir.resolve("requests.png")));
        assertFalse(markdown().contains("vs direct"));
    }

    @Test
    void emptyRunStillWritesJsonAndMarkdown() throws IOException {
        Reports.write(dir, INFO, List.of());

        assertEquals(0, new ObjectMapper().readTree(dir.resolve("results.json").toFile()).get("results").size());
        assertTrue(markdown().contains("_No headline metrics in this run._"));
        for (String chart : CHARTS) {
            assertFalse(Files.exists(dir.resolve(chart)), chart);
        }
    }

    @Test
    void unknownTargetsFollowTheKnownOnes() throws IOException {
        List<Result> results = new ArrayList<>(List.of(result("pgbench", "envoy", "tps", "tx/s", 1400, 1500, 1550)));
        results.addAll(scenarios(Set.of("pgbench")));
        Reports.write(dir, INFO, results);

        // Ratios below 0.1 keep three significant digits instead of collapsing to 0.10× or 0.00×.
        String row = row("pgbench", "tps ↑ (tx/s)");
        assertTrue(row.endsWith("| 14,000 (13,900–14,100) | 0.90× | 1,500 (1,400–1,550) | 0.0968× | 0.11× |"), row);
    }
}
