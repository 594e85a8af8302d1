package dev.wharf.bench.target;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds targets by name. */
public final class Targets {
    /** Every target, in report order. */
    public static final List<String> NAMES = List.of(PortTarget.DIRECT, WharfTarget.NAME, HaproxyTarget.NAME,
            HaproxyTarget.SPLICE_NAME, NginxTarget.NAME, SocatTarget.NAME);

    /**
     * Threads (HAProxy {@code nbthread}) and worker processes (nginx) of the peers: one per core,
     * as Wharf's event loops by default, so that every proxy may use the same CPUs (2 here).
     */
    public static final int THREADS = Runtime.getRuntime().availableProcessors();

    private Targets() {
    }

    /**
     * Starts the targets named in {@code names} (any of {@link #NAMES}), keyed and ordered by name.
     * {@code wharfJar} may be null for {@link WharfTarget#defaultJar()}. If one fails to start,
     * those already started are closed and the failure is thrown.
     */
    public static Map<String, Target> startAll(Upstreams upstreams, Path workDir, Path wharfJar, List<String> names) {
        WharfTarget.Options wharf = WharfTarget.Options.defaults();
        return startAll(upstreams, workDir, wharfJar == null ? wharf : wharf.withJar(wharfJar), names);
    }

    /** As {@link #startAll(Upstreams, Path, Path, List)}, with Wharf run as {@code wharf} says. */
    public static Map<String, Target> startAll(Upstreams upstreams, Path workDir, WharfTarget.Options wharf,
                                               List<String> names) {
        names.forEach(Targets::checkName);
        Map<String, Target> started = new LinkedHashMap<>();
        try {
            for (String name : names) {
                if (!started.containsKey(name)) {
                    started.put(name, start(name, upstreams, workDir, wharf));
                }
            }
            return started;
        } catch (RuntimeException e) {
            started.values().forEach(t -> {
                try {
                    t.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            });
            throw e;
        }
    }

    /** Starts one target by name. */
    public static Target start(String name, Upstreams upstreams, Path workDir, WharfTarget.Options wharf) {
        return switch (checkName(name)) {
            case PortTarget.DIRECT -> PortTarget.direct(upstreams);
            case WharfTarget.NAME -> WharfTarget.start(upstreams, workDir, wharf);
            case HaproxyTarget.NAME -> HaproxyTarget.start(upstreams, workDir, false);
            case HaproxyTarget.SPLICE_NAME -> HaproxyTarget.start(upstreams, workDir, true);
            case NginxTarget.NAME -> NginxTarget.start(upstreams, workDir);
            case SocatTarget.NAME -> SocatTarget.start(upstreams, workDir);
            default -> throw new AssertionError(name);
        };
    }

    private static String checkName(String name) {
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown target " + name + "; known: " + String.join(", ", NAMES));
        }
        return name;
    }
}
