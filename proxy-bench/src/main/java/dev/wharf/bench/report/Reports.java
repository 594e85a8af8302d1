package dev.wharf.bench.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import dev.wharf.bench.model.Result;
import dev.wharf.bench.model.RunInfo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a run's report: {@code results.json} (every sample, for later analysis),
 * {@code results.md} (tables with ratios to direct and HAProxy) and PNG charts
 * ({@code throughput.png}, {@code latency.png}, {@code requests.png}; each skipped, and any old copy
 * deleted, when its data is absent).
 */
public final class Reports {
    static {
        // Benchmarks run on servers without a display; AWT reads this once, before the first chart class loads.
        System.setProperty("java.awt.headless", "true");
    }

    /**
     * Instant as ISO-8601 text. The JSR-310 Jackson module is not a dependency of this module, and
     * {@link Instant#toString()} is exactly ISO-8601, so one serializer is enough.
     */
    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new SimpleModule().addSerializer(Instant.class, ToStringSerializer.instance))
            .enable(SerializationFeature.INDENT_OUTPUT);

    private Reports() {
    }

    /** Writes all report files into {@code dir}, creating it if needed. */
    public static void write(Path dir, RunInfo info, List<Result> results) throws IOException {
        Files.createDirectories(dir);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("run", info);
        json.put("results", results);
        JSON.writeValue(dir.resolve("results.json").toFile(), json);

        RunData data = new RunData(results);
        Files.writeString(dir.resolve("results.md"), Markdown.report(info, data), StandardCharsets.UTF_8);
        Charts.write(dir, data);
    }

    /**
     * The headline table alone (key medians per target with ratios to direct and HAProxy), for
     * pasting into README.md. {@code info} is not printed: the table carries no run metadata, and
     * the README should say where the numbers come from in its own words.
     */
    public static String headlineMarkdown(RunInfo info, List<Result> results) {
        return Markdown.headline(new RunData(results));
    }
}
