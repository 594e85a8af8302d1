package dev.wharf.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.wharf.config.TestConfigs;
import dev.wharf.metrics.WharfMetrics;
import dev.wharf.upstream.Resolver;
import dev.wharf.upstream.UpstreamPool;
import dev.wharf.upstream.UpstreamWorkers;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Keeps the README's configuration reference and metrics list true to the code. */
class ReadmeTest {
    private static final Path README = Path.of("..", "README.md");

    private static String section(String readme, String name) {
        String begin = "<!-- " + name + ": begin -->";
        String end = "<!-- " + name + ": end -->";
        int from = readme.indexOf(begin);
        int to = readme.indexOf(end);
        if (from < 0 || to < from) {
            throw new AssertionError("README.md has no section between " + begin + " and " + end);
        }
        return readme.substring(from + begin.length(), to).strip();
    }

    @Test
    void theConfigurationReferenceIsReferenceConf() throws Exception {
        String readme = Files.readString(README);
        String reference;
        try (InputStream in = WharfMetrics.class.getClassLoader().getResourceAsStream("reference.conf")) {
            reference = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        }
        assertEquals("```hocon\n" + reference + "\n```", section(readme, "reference.conf"),
                "README.md's configuration reference differs from proxy-core/src/main/resources/reference.conf");
    }

    @Test
    void theMetricsTableListsExactlyWhatWharfExports() throws Exception {
        // given every wharf meter registered, as a running listener with an endpoint has them
        WharfMetrics metrics = new WharfMetrics();
        String scrape;
        try (UpstreamWorkers workers = new UpstreamWorkers(Resolver.SYSTEM);
             UpstreamPool pool = UpstreamPool.create("pg", TestConfigs.upstream("endpoints = [\"127.0.0.1:1\"]"),
                     metrics.listener("pg"), workers)) {
            // The protocol counters appear with their first event.
            metrics.listener("pg").kafkaRewrite("metadata");
            metrics.listener("pg").redisRedirect("moved");
            metrics.listener("pg").redisRewrite("cluster_slots");
            metrics.listener("pg").protocolError("client");
            metrics.listener("pg").httpRequest("GET", 200, 1_000_000);
            scrape = metrics.scrape();
        }
        Set<String> exported = new TreeSet<>();
        Matcher type = Pattern.compile("(?m)^# TYPE (wharf_\\w+) ").matcher(scrape);
        while (type.find()) {
            exported.add(type.group(1));
        }
        // Micrometer adds a _max gauge to every timer; the README says so once instead of per row.
        exported.removeIf(name -> name.endsWith("_max") && exported.contains(name.substring(0, name.length() - 4)));
        Set<String> documented = new TreeSet<>();
        Matcher row = Pattern.compile("(?m)^\\| `(wharf_\\w+)` \\|").matcher(section(Files.readString(README), "metrics"));
        while (row.find()) {
            documented.add(row.group(1));
        }
        assertEquals(exported, documented, "README.md's metrics table differs from what Wharf exports");
    }
}
