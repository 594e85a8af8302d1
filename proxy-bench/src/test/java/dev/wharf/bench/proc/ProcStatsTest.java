package dev.wharf.bench.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProcStatsTest {

    @Test
    void measuresTheRunningJvm() {
        long self = ProcessHandle.current().pid();
        double before = cpuSecondsPerJdk(self);

        ProcStats.Usage usage = ProcStats.of(self);

        assertTrue(usage.cpuSeconds() > 0, "cpu " + usage);
        assertTrue(usage.rssBytes() > 10_000_000, "a JVM holds more than 10 MB: " + usage);
        // The JDK's utime + stime, read just before, is a lower bound (ours adds reaped children).
        assertTrue(usage.cpuSeconds() >= before - 0.02, "ours " + usage.cpuSeconds() + " vs the JDK's " + before);
        assertEquals(100, ProcStats.clockTicksPerSecond(), 0, "CLK_TCK on Linux");
    }

    @Test
    void readsTheSameCpuTimeAsTheJdkForAProcessWithoutChildren() throws Exception {
        Process busy = new ProcessBuilder("sh", "-c",
                "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo done; exec sleep 30").start();
        try {
            assertEquals("done\n", new String(busy.getInputStream().readNBytes(5)));
            double ours = ProcStats.of(busy.pid()).cpuSeconds();
            double jdk = cpuSecondsPerJdk(busy.pid());
            assertTrue(ours >= 0.05 && Math.abs(ours - jdk) < 0.015, "ours " + ours + " vs the JDK's " + jdk);
        } finally {
            busy.destroyForcibly().waitFor();
        }
    }

    @Test
    void includesChildrenAndGrandchildren() throws Exception {
        Process sh = new ProcessBuilder("sh", "-c", "sleep 30 & sleep 30 & wait").start();
        try {
            awaitTreeSize(sh.pid(), 3);
            List<Long> tree = ProcStats.tree(sh.pid());
            assertEquals(sh.pid(), tree.get(0));
            assertTrue(ProcStats.tree(ProcessHandle.current().pid()).containsAll(tree), "the JVM's tree holds the grandchildren");

            ProcStats.Usage usage = ProcStats.of(sh.pid());
            assertEquals(3, usage.processes());
            assertTrue(usage.rssBytes() > 0, usage.toString());
            ProcStats.Usage sleepAlone = ProcStats.of(tree.get(1));
            assertEquals(1, sleepAlone.processes());
            assertTrue(sleepAlone.rssBytes() > 0 && sleepAlone.rssBytes() < usage.rssBytes(), sleepAlone + " of " + usage);
            // The three share libc and the sleep binary: the proportional size is smaller than summed RSS.
            long pss = ProcStats.pssBytes(List.of(sh.pid()));
            assertTrue(pss > 0 && pss < usage.rssBytes(), "pss " + pss + " vs " + usage);
        } finally {
            sh.descendants().forEach(ProcessHandle::destroyForcibly);
            sh.destroyForcibly().waitFor();
        }
    }

    @Test
    void countsTheCpuOfReapedChildren() throws Exception {
        // The inner shell burns CPU and exits; the outer one reaped it, so it is in its cutime.
        Process sh = new ProcessBuilder("sh", "-c",
                "sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'; echo done; exec sleep 30").start();
        try {
            String line = new String(sh.getInputStream().readNBytes(5));
            assertEquals("done\n", line);
            ProcStats.Usage usage = ProcStats.of(sh.pid());
            assertEquals(1, usage.processes(), "only the outer shell (now sleep) is left");
            assertTrue(usage.cpuSeconds() >= 0.05, "the busy loop's CPU is counted: " + usage);
        } finally {
            sh.destroyForcibly().waitFor();
        }
    }

    @Test
    void aProcessThatIsGoneCountsNothing() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        assertEquals(List.of(), ProcStats.tree(p.pid()));
        assertEquals(ProcStats.Usage.NONE, ProcStats.of(p.pid()));
    }

    private static double cpuSecondsPerJdk(long pid) {
        return ProcessHandle.of(pid).orElseThrow().info().totalCpuDuration().orElseThrow().toNanos() / 1e9;
    }

    private static void awaitTreeSize(long pid, int size) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (ProcStats.tree(pid).size() < size) {
            assertTrue(System.nanoTime() < deadline, "tree of " + pid + ": " + ProcStats.tree(pid));
            Thread.sleep(10);
        }
    }
}
