package dev.wharf.bench.proc;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * CPU time and resident memory of a process and all its descendants, read from /proc (Linux
 * only), e.g. a proxy's master process with its workers, or socat with its forked children.
 *
 * <p>CPU is {@code utime + stime + cutime + cstime} of each process: the children a process has
 * already reaped are in its {@code cutime/cstime}, live ones are counted on their own, so a
 * socat child that served a connection and exited still counts. A process that exits between
 * two reads of a run is simply left out of the later one.
 */
public final class ProcStats {
    private static final double CLOCK_TICKS = readClockTicks();

    private ProcStats() {
    }

    /**
     * CPU and memory of a set of processes; {@code processes} is how many were counted.
     * {@code rssBytes} is the sum of VmRSS: pages shared between the processes (nginx's workers,
     * socat's forked children: the binary, libraries, copy-on-write memory) count once per
     * process, which overstates many small forked processes; see {@link #pssBytes}.
     */
    public record Usage(double cpuSeconds, long rssBytes, int processes) {
        public static final Usage NONE = new Usage(0, 0, 0);

        public Usage plus(Usage other) {
            return new Usage(cpuSeconds + other.cpuSeconds, rssBytes + other.rssBytes, processes + other.processes);
        }
    }

    /** {@code pid} and all its live descendants. */
    public static Usage of(long pid) {
        return ofTrees(List.of(pid));
    }

    /** Every process under any of {@code rootPids} (each counted once, even if trees overlap). */
    public static Usage ofTrees(Collection<Long> rootPids) {
        Set<Long> all = new LinkedHashSet<>();
        rootPids.forEach(pid -> all.addAll(tree(pid)));
        Usage total = Usage.NONE;
        for (long pid : all) {
            total = total.plus(ofProcess(pid));
        }
        return total;
    }

    /**
     * {@code pid} followed by all its live descendants, found through
     * {@code /proc/PID/task/TID/children} (every thread's children, since a child belongs to the
     * thread that forked it). Empty if {@code pid} does not exist. Zombies are left out.
     */
    public static List<Long> tree(long pid) {
        Set<Long> found = new LinkedHashSet<>();
        Deque<Long> todo = new ArrayDeque<>(List.of(pid));
        while (!todo.isEmpty()) {
            long p = todo.pop();
            if (!found.add(p)) {
                continue;
            }
            if (!isRunning(p)) {
                found.remove(p);
                continue;
            }
            todo.addAll(children(p));
        }
        return List.copyOf(found);
    }

    /**
     * The proportional set size of every process under {@code rootPids}: each shared page divided
     * among the processes sharing it, so unlike summed RSS it adds up across processes (Pss of
     * /proc/PID/smaps_rollup). Read only on demand: the kernel walks the process's page tables
     * under its memory-map lock, which a proxy under load should not meet at every sample.
     */
    public static long pssBytes(Collection<Long> rootPids) {
        Set<Long> all = new LinkedHashSet<>();
        rootPids.forEach(pid -> all.addAll(tree(pid)));
        long total = 0;
        for (long pid : all) {
            try {
                total += kilobytes(Path.of("/proc", Long.toString(pid), "smaps_rollup"), "Pss:");
            } catch (IOException | RuntimeException gone) {
                // Exited meanwhile.
            }
        }
        return total;
    }

    /**
     * Whether {@code pid} exists and has not exited: unlike {@link ProcessHandle#isAlive()}, a
     * zombie (exited, waiting to be reaped by its parent or init) does not count.
     */
    public static boolean isRunning(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException | RuntimeException gone) {
            return false;
        }
    }

    /** Clock ticks per second ({@code getconf CLK_TCK}), the unit of the times in /proc/PID/stat. */
    public static double clockTicksPerSecond() {
        return CLOCK_TICKS;
    }

    /** One process on its own; {@link Usage#NONE} if it is gone. */
    static Usage ofProcess(long pid) {
        Path dir = Path.of("/proc", Long.toString(pid));
        try {
            String stat = Files.readString(dir.resolve("stat"));
            // The command name (field 2) is in parentheses and may hold spaces or ')': fields are
            // counted from the last ')'. After it: state(3) ppid(4) ... utime(14) stime(15)
            // cutime(16) cstime(17), i.e. indexes 11..14 here.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
            return new Usage(ticks / CLOCK_TICKS, kilobytes(dir.resolve("status"), "VmRSS:"), 1);
        } catch (IOException | RuntimeException gone) {
            return Usage.NONE;
        }
    }

    /**
     * A "Field:   123 kB" line of a /proc file, in bytes; 0 if absent (a zombie or a kernel thread
     * has no VmRSS).
     */
    private static long kilobytes(Path file, String field) throws IOException {
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith(field)) {
                String[] f = line.substring(field.length()).trim().split("\\s+");
                return Long.parseLong(f[0]) * 1024;
            }
        }
        return 0;
    }

    private static List<Long> children(long pid) {
        List<Long> children = new java.util.ArrayList<>();
        Path tasks = Path.of("/proc", Long.toString(pid), "task");
        try (DirectoryStream<Path> threads = Files.newDirectoryStream(tasks)) {
            for (Path thread : threads) {
                Path file = thread.resolve("children");
                if (!Files.exists(file)) {
                    // Kernel without CONFIG_PROC_CHILDREN: fall back to the JDK's view.
                    return ProcessHandle.of(pid).stream().flatMap(ProcessHandle::children).map(ProcessHandle::pid).toList();
                }
                String text;
                try {
                    text = Files.readString(file).trim();
                } catch (IOException threadEnded) {
                    continue;
                }
                if (!text.isEmpty()) {
                    for (String c : text.split("\\s+")) {
                        children.add(Long.parseLong(c));
                    }
                }
            }
        } catch (IOException gone) {
            // The process exited while we looked.
        }
        return children;
    }

    private static double readClockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) {
                return Double.parseDouble(out);
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100; // USER_HZ on every mainstream Linux build
    }
}
