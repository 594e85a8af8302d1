package dev.wharf.bench;

import dev.wharf.bench.load.BulkThroughput;
import dev.wharf.bench.load.ConnectionRate;
import dev.wharf.bench.load.IdleConnections;
import dev.wharf.bench.load.OpenLoop;
import dev.wharf.bench.load.RequestResponse;
import dev.wharf.bench.model.Measurement;
import dev.wharf.bench.model.Result;
import dev.wharf.bench.model.RunInfo;
import dev.wharf.bench.proc.Directories;
import dev.wharf.bench.realclient.Pgbench;
import dev.wharf.bench.realclient.RedisBenchmark;
import dev.wharf.bench.report.Reports;
import dev.wharf.bench.scenario.RunContext;
import dev.wharf.bench.scenario.Scenario;
import dev.wharf.bench.stats.Stats;
import dev.wharf.bench.target.Target;
import dev.wharf.bench.target.Targets;
import dev.wharf.bench.target.Upstreams;
import dev.wharf.bench.target.WharfTarget;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One benchmark run: start the upstreams and every target, calibrate the open-loop rate on the
 * direct connection, then run each scenario against each target, rotating the targets' order
 * round by round so that no target always runs first or last on a noisy machine.
 */
public final class Bench {
    static final List<String> ALL_TARGETS = List.of("direct", "wharf", "haproxy", "haproxy-splice", "nginx", "socat");
    static final List<String> ALL_SCENARIOS = scenarios().stream().map(Scenario::name).toList();
    private static final Logger LOG = LoggerFactory.getLogger(Bench.class);
    private static final int[] OPEN_LOOP_SIZES = {64, 4096};

    private final BenchOptions options;
    private final List<String> notes = new ArrayList<>();

    public Bench(BenchOptions options) {
        this.options = options;
    }

    /** Runs everything and writes the reports; returns the output directory. */
    public Path run() throws Exception {
        Files.createDirectories(options.out());
        Path work = Files.createTempDirectory("wharf-bench-");
        Instant started = Instant.now();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2,
                Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        try (Upstreams upstreams = Upstreams.start(work)) {
            Map<String, Target> targets = Targets.startAll(upstreams, work,
                    WharfTarget.Options.defaults().withJar(options.wharfJar()).withExtraConfig(options.wharfConf()),
                    options.targets());
            try {
                RunContext context = context(group, Map.of());
                if (options.scenarios().isEmpty() || options.scenarios().contains("rr-open")) {
                    context = context(group, calibrate(targets.get("direct"), context));
                }
                if (!options.wharfConf().isBlank()) {
                    note("wharf ran with extra config: %s", options.wharfConf().strip());
                }
                List<Measurement> measurements = measure(targets, context);
                List<Result> results = Stats.aggregate(measurements);
                Reports.write(options.out(), runInfo(started, targets), results);
                return options.out();
            } finally {
                targets.values().forEach(Target::close);
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            Directories.deleteTree(work);
        }
    }

    private RunContext context(EventLoopGroup group, Map<Integer, Double> openLoopRate) {
        if (options.smoke()) {
            return new RunContext(Duration.ofMillis(700), Duration.ofMillis(200), true, true, group, openLoopRate);
        }
        return options.quick()
                ? new RunContext(Duration.ofMillis(1500), Duration.ofMillis(300), true, false, group, openLoopRate)
                : new RunContext(Duration.ofSeconds(3), Duration.ofSeconds(1), false, false, group, openLoopRate);
    }

    /** The open-loop rate for each size: half of what the direct connection sustains in a closed loop. */
    private Map<Integer, Double> calibrate(Target direct, RunContext context) throws Exception {
        Map<Integer, Double> rates = new LinkedHashMap<>();
        for (int size : OPEN_LOOP_SIZES) {
            OpenLoop.calibrate(direct, context, size); // a cold JVM underestimates: warm up first
            double max = OpenLoop.calibrate(direct, context, size);
            rates.put(size, max / 2);
            note("open loop at %d B offered %.0f req/s: half the %.0f req/s the direct connection reached in a closed loop",
                    size, max / 2, max);
        }
        return rates;
    }

    private List<Measurement> measure(Map<String, Target> targets, RunContext context) throws Exception {
        List<Scenario> scenarios = scenarios().stream()
                .filter(s -> options.scenarios().isEmpty() || options.scenarios().contains(s.name())).toList();
        List<Target> order = new ArrayList<>(targets.values());
        List<Measurement> all = new ArrayList<>();
        for (int round = 0; round < options.rounds(); round++) {
            List<Target> rotated = new ArrayList<>(order.subList(round % order.size(), order.size()));
            rotated.addAll(order.subList(0, round % order.size()));
            for (Scenario scenario : scenarios) {
                for (Target target : rotated) {
                    LOG.info("round {}/{}: {} against {}", round + 1, options.rounds(), scenario.name(), target.name());
                    try {
                        all.addAll(scenario.run(target, context));
                    } catch (Exception e) {
                        if (options.smoke()) {
                            throw e;
                        }
                        note("round %d: %s failed against %s: %s", round + 1, scenario.name(), target.name(), e);
                    }
                }
            }
        }
        return all;
    }

    private static List<Scenario> scenarios() {
        return List.of(new BulkThroughput(), new RequestResponse(), new OpenLoop(), new ConnectionRate(),
                new IdleConnections(), new RedisBenchmark(), new Pgbench());
    }

    private void note(String format, Object... args) {
        String note = String.format(format, args);
        LOG.info(note);
        notes.add(note);
    }

    private RunInfo runInfo(Instant started, Map<String, Target> targets) {
        return new RunInfo(started, Machine.describe(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.name") + " " + System.getProperty("os.version"),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
                options.quick(), options.rounds(), List.copyOf(targets.keySet()), notes);
    }
}
