package dev.wharf.bench.realclient;

import dev.wharf.bench.model.Measurement;
import dev.wharf.bench.proc.ManagedProcess;
import dev.wharf.bench.scenario.RunContext;
import dev.wharf.bench.scenario.Scenario;
import dev.wharf.bench.target.Target;
import dev.wharf.bench.target.Upstream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Redis' own benchmark tool through the target: {@code redis-benchmark -t set,get --csv}, once
 * with 16 commands pipelined per connection ("redis-benchmark-P16", where the relay's throughput
 * shows) and once without pipelining ("redis-benchmark-c50", where its per-request latency
 * shows), 50 connections each. Metrics "SET" and "GET" in kops/s.
 */
public final class RedisBenchmark implements Scenario {
    public static final String NAME = "redis-benchmark";

    /*
     * Requests per test (SET, then GET) of a full run, sized so that one invocation takes about
     * 5 s against the direct connection here (0.75-1.3M req/s pipelined, 65-90k req/s without,
     * depending on what else runs on the machine) and up to twice that through a proxy; the quick
     * run does a quarter, the smoke test a token amount.
     */
    private static final List<Variant> VARIANTS = List.of(
            new Variant(NAME + "-P16", List.of("-P", "16", "-c", "50"), 1_500_000),
            new Variant(NAME + "-c50", List.of("-c", "50"), 100_000));
    private static final long SMOKE_REQUESTS = 2_000;
    private static final int QUICK_DIVISOR = 4;
    /** Some 20 times what a full run takes against the direct connection. */
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final Pattern CSV_LINE = Pattern.compile("^\"(SET|GET)\",\"([0-9.eE+-]+)\"", Pattern.MULTILINE);

    private record Variant(String scenario, List<String> flags, long fullRequests) {
        long requests(RunContext context) {
            if (context.smoke()) {
                return SMOKE_REQUESTS;
            }
            return context.quick() ? fullRequests / QUICK_DIVISOR : fullRequests;
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<Measurement> run(Target target, RunContext context) throws Exception {
        Path tool = ManagedProcess.findBinary("redis-benchmark", "redis-tools");
        int port = target.port(Upstream.REDIS);
        ping(target.name(), port);
        List<Measurement> measurements = new ArrayList<>();
        for (Variant v : VARIANTS) {
            long requests = v.requests(context);
            if (!context.smoke() && !context.warmUp().isZero()) {
                // Not recorded: lets the proxy's JIT and buffers settle, as the other scenarios do.
                double share = (double) context.warmUp().toMillis() / Math.max(1, context.measureFor().toMillis());
                run(tool, port, v, Math.max(SMOKE_REQUESTS, (long) (requests * Math.min(1, share))));
            }
            Map<String, Double> rps = run(tool, port, v, requests);
            rps.forEach((test, value) -> measurements.add(
                    new Measurement(v.scenario(), target.name(), test, "kops/s", value / 1000)));
        }
        return measurements;
    }

    /**
     * redis-benchmark retries a refused connection forever: a target that does not relay must fail
     * here, not at the tool's timeout.
     */
    private static void ping(String target, int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(ManagedProcess.HOST, port), 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readNBytes(7), StandardCharsets.US_ASCII);
            if (!answer.equals("+PONG\r\n")) {
                throw new IOException("PING answered " + answer.strip());
            }
        } catch (IOException e) {
            throw new IOException("Redis does not answer PING through " + target + " on port " + port + ": " + e, e);
        }
    }

    private static Map<String, Double> run(Path tool, int port, Variant v, long requests)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(tool.toString(), "-h", ManagedProcess.HOST, "-p", Integer.toString(port),
                "-t", "set,get", "-n", Long.toString(requests)));
        cmd.addAll(v.flags());
        cmd.add("--csv");
        String output = ManagedProcess.run(cmd, TIMEOUT);
        Map<String, Double> rps = parse(output);
        if (rps.size() != 2) {
            throw new IOException(String.join(" ", cmd) + " printed no SET and GET results:\n" + output);
        }
        return rps;
    }

    /** Requests per second by test name, from redis-benchmark's CSV: {@code "SET","734753.88",...}. */
    static Map<String, Double> parse(String csv) {
        Map<String, Double> rps = new LinkedHashMap<>();
        Matcher m = CSV_LINE.matcher(csv);
        while (m.find()) {
            double value = Double.parseDouble(m.group(2));
            if (value > 0) {
                rps.put(m.group(1), value);
            }
        }
        return rps;
    }
}
