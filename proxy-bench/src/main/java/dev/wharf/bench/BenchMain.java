package dev.wharf.bench;

import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** {@code java -jar wharf-bench.jar [--quick] [--out DIR] [--targets a,b] [--rounds N] [--wharf-jar FILE]}. */
public final class BenchMain {
    static final String USAGE = """
            Usage: java -jar proxy-bench/target/wharf-bench.jar [--quick] [--out DIR] [--targets LIST] [--scenarios LIST]
                                                      [--rounds N] [--wharf-jar FILE] [--wharf-conf HOCON]

              --quick          about 2 minutes: one round, short measurements (default: the full run, about 15 minutes)
              --out DIR        where results.json, results.md and the PNG charts go (default: bench-results/<UTC time>)
              --targets LIST   comma-separated subset of direct,wharf,haproxy,haproxy-splice,nginx,socat (default: all)
              --scenarios LIST comma-separated subset of bulk,rr-closed,rr-open,conn-rate,idle,redis-benchmark,pgbench
              --rounds N       rounds, targets rotated each round (default: 3, or 1 with --quick)
              --wharf-jar F    the Wharf jar to measure (default: proxy-k8s/target/wharf.jar)
              --wharf-conf H   HOCON added to Wharf's generated config, to measure a setting,
                               e.g. 'wharf.runtime { transport = nio, event-loops = 1 }'

            Everything runs on 127.0.0.1 and is started and stopped by the bench: the bench's own
            echo/sink/source server, redis-server and PostgreSQL as upstreams, then each target.
            Needs the Debian packages haproxy, nginx, libnginx-mod-stream, socat, redis-server,
            redis-tools and postgresql-15.
            """;

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        BenchOptions options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("wharf-bench: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (options == null) {
            System.out.print(USAGE);
            return;
        }
        Path out = new Bench(options).run();
        System.out.println("results in " + out.toAbsolutePath());
    }

    static BenchOptions parse(String[] args) {
        boolean quick = false;
        Path out = null;
        List<String> targets = Bench.ALL_TARGETS;
        List<String> scenarios = List.of();
        String wharfConf = "";
        Integer rounds = null;
        Path wharfJar = Path.of("proxy-k8s", "target", "wharf.jar");
        List<String> rest = new ArrayList<>(Arrays.asList(args));
        while (!rest.isEmpty()) {
            String arg = rest.remove(0);
            switch (arg) {
                case "--help", "-h" -> {
                    return null;
                }
                case "--quick" -> quick = true;
                case "--out" -> out = Path.of(value(arg, rest));
                case "--targets" -> targets = targets(value(arg, rest));
                case "--scenarios" -> scenarios = scenarios(value(arg, rest));
                case "--wharf-conf" -> wharfConf = value(arg, rest);
                case "--rounds" -> rounds = rounds(value(arg, rest));
                case "--wharf-jar" -> wharfJar = Path.of(value(arg, rest));
                default -> throw new IllegalArgumentException("unknown argument: " + arg);
            }
        }
        if (out == null) {
            out = Path.of("bench-results", DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now()));
        }
        return new BenchOptions(quick, false, out, targets, scenarios, rounds != null ? rounds : quick ? 1 : 3, wharfJar,
                wharfConf);
    }

    private static String value(String flag, List<String> rest) {
        if (rest.isEmpty()) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return rest.remove(0);
    }

    private static List<String> targets(String list) {
        List<String> names = List.of(list.split(","));
        for (String name : names) {
            if (!Bench.ALL_TARGETS.contains(name)) {
                throw new IllegalArgumentException("--targets: unknown target " + name + " (expected some of " + Bench.ALL_TARGETS + ")");
            }
        }
        if (!names.contains("direct")) {
            throw new IllegalArgumentException("--targets must include direct: every ratio and the open-loop rate are relative to it");
        }
        return names;
    }

    private static List<String> scenarios(String list) {
        List<String> names = List.of(list.split(","));
        for (String name : names) {
            if (!Bench.ALL_SCENARIOS.contains(name)) {
                throw new IllegalArgumentException("--scenarios: unknown scenario " + name + " (expected some of " + Bench.ALL_SCENARIOS + ")");
            }
        }
        return names;
    }

    private static int rounds(String text) {
        try {
            int n = Integer.parseInt(text);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new IllegalArgumentException("--rounds: " + text + " (expected: a whole number >= 1)");
    }
}
