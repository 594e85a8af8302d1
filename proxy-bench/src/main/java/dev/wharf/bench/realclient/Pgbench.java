package dev.wharf.bench.realclient;

import dev.wharf.bench.model.Measurement;
import dev.wharf.bench.proc.ManagedProcess;
import dev.wharf.bench.proc.PostgresBinaries;
import dev.wharf.bench.scenario.RunContext;
import dev.wharf.bench.scenario.Scenario;
import dev.wharf.bench.target.Target;
import dev.wharf.bench.target.Upstream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PostgreSQL's pgbench through the target, select-only ({@code -S}): many short queries, so the
 * relay's per-request latency shows. Metric "tps" in tx/s (without the initial connection time).
 * Needs the database {@code pgbench -i} loaded, which {@code Upstreams} does.
 */
public final class Pgbench implements Scenario {
    public static final String NAME = "pgbench";

    private static final Pattern TPS = Pattern.compile("^tps = ([0-9.]+) \\(without initial connection time\\)",
            Pattern.MULTILINE);
    /** Beyond the run itself: connecting, pgbench's vacuum of its tables, reporting. */
    private static final Duration SLACK = Duration.ofMinutes(2);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<Measurement> run(Target target, RunContext context) throws Exception {
        Path tool = PostgresBinaries.find("pgbench", "postgresql-client-15");
        int port = target.port(Upstream.POSTGRES);
        if (context.smoke()) {
            return List.of(measurement(target, run(tool, port, 2, 1, 1)));
        }
        long warmUp = context.warmUp().toSeconds();
        if (warmUp >= 1) {
            run(tool, port, 8, 2, warmUp); // not recorded: lets the proxy's JIT and buffers settle
        }
        long seconds = Math.max(1, (context.measureFor().toMillis() + 999) / 1000);
        return List.of(measurement(target, run(tool, port, 8, 2, seconds)));
    }

    private static Measurement measurement(Target target, double tps) {
        return new Measurement(NAME, target.name(), "tps", "tx/s", tps);
    }

    private static double run(Path tool, int port, int clients, int threads, long seconds)
            throws IOException, InterruptedException {
        List<String> cmd = List.of(tool.toString(), "-S", "-c", Integer.toString(clients), "-j", Integer.toString(threads),
                "-T", Long.toString(seconds), "-h", ManagedProcess.HOST, "-p", Integer.toString(port),
                "-U", "postgres", "postgres");
        String output = ManagedProcess.run(cmd, Duration.ofSeconds(seconds).plus(SLACK),
                Map.of("PGCONNECT_TIMEOUT", "10"), null);
        double tps = parse(output);
        if (!(tps > 0)) {
            throw new IOException(String.join(" ", cmd) + " printed no tps:\n" + output);
        }
        return tps;
    }

    /** The tps of pgbench's summary, {@code tps = 28956.217247 (without initial connection time)}; NaN if none. */
    static double parse(String output) {
        Matcher m = TPS.matcher(output);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }
}
