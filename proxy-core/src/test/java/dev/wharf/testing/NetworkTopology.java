package dev.wharf.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * A firewall in network namespaces, for integration tests that must show a proxy to be the only way
 * through: upstream servers run in a namespace U that the test JVM cannot route to, and each of
 * {@code proxies} namespaces W1, W2, ... has one leg toward the test JVM and one toward U.
 *
 * <pre>
 *   test JVM (root namespace)                    proxies                    upstreams
 *   198.18.1.1 ─veth─ 198.18.1.2 [W1] 198.18.100.5 ─veth─ 198.18.100.6 ─┐
 *   198.18.2.1 ─veth─ 198.18.2.2 [W2] 198.18.100.9 ─veth─ 198.18.100.10 ┴ [U] 198.18.100.1 (on lo)
 *   route: unreachable 198.18.100.0/24          route: 198.18.100.0/24 via U's leg
 * </pre>
 *
 * <p>Those are the addresses of slot 0. Each topology alive on the machine holds a slot of its own (0-11,
 * by a lock file under {@code /run/wharf-netns}), so that test JVMs running side by side do not clash;
 * slot {@code s} uses {@code 198.18.(8s+i).0/30} for the link to Wi and {@code 198.18.(100+s).0/24} for
 * U and its links, all within 198.18.0.0/15 (RFC 2544, for benchmarking networks). The root namespace
 * routes U's /24 as {@code unreachable}, so that a connect from the test JVM fails at once with "No route
 * to host" instead of leaving through the default route; every namespace has IP forwarding off, so W
 * never routes between its legs, and IPv6 off, so no link-local addresses appear. Servers in U are
 * started through {@link #upstream()}, a proxy in Wi through {@link #proxy(int)}.
 *
 * <p>Namespaces are named {@code wharf-PID-SLOT-up} and {@code wharf-PID-SLOT-wI}, the root ends of the
 * veths {@code whPIDsSLOTpI}. Use it as {@code @RegisterExtension @Order(1) static final}, with the
 * servers placed in it ordered after it (JUnit's order of unannotated extension fields is deliberately
 * unspecified; it closes them in reverse), or with {@link #start()} and {@link #close()}. {@link #close()} kills whatever still runs in the namespaces and deletes them, the
 * veths and the route; a shutdown hook does the same if the JVM exits first, and {@link #start()} first
 * removes what earlier JVMs that no longer exist left behind. It needs root and iproute2, and fails,
 * never skips, without them.
 */
public final class NetworkTopology extends ClassScoped {

    /** Proxy namespaces per topology: slot s uses 198.18.(8s+1).0/30 to 198.18.(8s+7).0/30 for their links. */
    public static final int MAX_PROXIES = 7;

    static final String NEEDS = "NetworkTopology needs root and iproute2's `ip netns` (apt-get install iproute2),"
            + " to create network namespaces, veth pairs and routes";

    private static final int SLOTS = 12;
    private static final Path LOCK_DIR = Path.of("/run/wharf-netns");
    private static final Duration IP_TIMEOUT = Duration.ofSeconds(15);
    private static final Pattern NAMESPACE = Pattern.compile("wharf-(\\d+)-(\\d+)-(?:up|w\\d+)");
    private static final Pattern ROOT_LINK = Pattern.compile("^\\d+: (wh(\\d+)s(\\d+)p\\d+)@", Pattern.MULTILINE);
    private static final long PID = ProcessHandle.current().pid();

    /** Slots held by topologies of this JVM: their lock files must not be opened again (closing would unlock). */
    private static final Set<Integer> HELD = new HashSet<>();

    private final int proxies;
    // Volatile: the shutdown hook reads them without the lock.
    private volatile Slot slot;
    private volatile Created created;
    private Thread shutdownHook;

    /** Two proxy namespaces, W1 and W2. */
    public NetworkTopology() {
        this(2);
    }

    public NetworkTopology(int proxies) {
        if (proxies < 1 || proxies > MAX_PROXIES) {
            throw new IllegalArgumentException("proxies: " + proxies + " (expected: 1-" + MAX_PROXIES + ")");
        }
        this.proxies = proxies;
    }

    // ---- lifecycle ----

    /** Removes leftovers of dead JVMs, then creates the namespaces, links and routes. Does nothing if created. */
    @Override
    public synchronized void start() {
        if (slot != null) {
            return;
        }
        requireRootAndIp();
        startOrClose(() -> {
            slot = claimSlot();
            created = new Created();
            registerShutdownHook();
            create(slot.number(), created);
        });
    }

    /** Kills what runs in the namespaces and deletes them, the veths and the route. Safe to call twice. */
    @Override
    public synchronized void close() {
        Slot held = slot;
        Created made = created;
        try {
            if (made != null) {
                made.tearDown();
            }
        } finally {
            created = null;
            slot = null;
            if (held != null) {
                held.release();
            }
            if (shutdownHook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(shutdownHook);
                } catch (IllegalStateException shuttingDown) {
                    // The hook is running or about to: it does the same cleanup.
                }
                shutdownHook = null;
            }
        }
    }

    // ---- addresses and namespaces ----

    /** Fails unless a connect from the test JVM to {@code hostPort} (in U) fails at once with "No route to host". */
    public void assertNoRouteFromHere(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        InetSocketAddress address = new InetSocketAddress(hostPort.substring(0, colon),
                Integer.parseInt(hostPort.substring(colon + 1)));
        try (Socket socket = new Socket()) {
            socket.connect(address, 2000);
        } catch (NoRouteToHostException expected) {
            return;
        } catch (IOException e) {
            throw new AssertionError("connecting to " + hostPort + " from the test JVM failed, but not for want of a"
                    + " route: " + e, e);
        }
        throw new AssertionError("the test JVM reached " + hostPort + ": the firewall topology leaks");
    }

    /** How many proxy namespaces there are; they are numbered from 1. */
    public int proxies() {
        return proxies;
    }

    /** U's address, where upstream servers listen (198.18.100.1 in slot 0). The test JVM cannot reach it. */
    public String upstreamHost() {
        return "198.18." + (100 + slot().number()) + ".1";
    }

    /** U's /24, which the root namespace routes as unreachable (198.18.100.0/24 in slot 0). */
    public String upstreamNetwork() {
        return "198.18." + (100 + slot().number()) + ".0/24";
    }

    /** Wi's address on its link to the root namespace, where a proxy listens for the test JVM (198.18.i.2 in slot 0). */
    public String proxyHost(int i) {
        return rootLinkPrefix(i) + ".2";
    }

    /** The root namespace's address on the link to Wi: the source of the test JVM's connections to Wi (198.18.i.1 in slot 0). */
    public String rootHost(int i) {
        return rootLinkPrefix(i) + ".1";
    }

    /** Wi's address on its link to U: the source of Wi's connections to U, as upstream servers see them. */
    public String proxyEgressHost(int i) {
        checkProxy(i);
        return "198.18." + (100 + slot().number()) + "." + (4 * i + 1);
    }

    public String upstreamNamespace() {
        return namespace("up");
    }

    public String proxyNamespace(int i) {
        checkProxy(i);
        return namespace("w" + i);
    }

    /** Every namespace of this topology: U first, then W1, W2, ... */
    public List<String> namespaces() {
        List<String> all = new ArrayList<>(List.of(upstreamNamespace()));
        IntStream.rangeClosed(1, proxies).forEach(i -> all.add(proxyNamespace(i)));
        return all;
    }

    /** Servers in U bind {@link #upstreamHost()}. */
    public Placement upstream() {
        return new Placement(upstreamHost(), prefix(upstreamNamespace()));
    }

    /** A proxy in Wi binds {@link #proxyHost(int)}, which the test JVM reaches. */
    public Placement proxy(int i) {
        return new Placement(proxyHost(i), prefix(proxyNamespace(i)));
    }

    /** {@code cmd} run in {@code namespace}: {@code ip netns exec NAMESPACE cmd...}. */
    public List<String> command(String namespace, List<String> cmd) {
        if (!namespaces().contains(namespace)) {
            throw new IllegalArgumentException("namespace: " + namespace + " (expected: one of " + namespaces() + ")");
        }
        List<String> full = new ArrayList<>(prefix(namespace));
        full.addAll(cmd);
        return full;
    }

    // ---- internals ----

    private Slot slot() {
        Slot s = slot;
        if (s == null) {
            throw new IllegalStateException("the network topology has not been started");
        }
        return s;
    }

    private String namespace(String role) {
        return namespaceName(PID, slot().number(), role);
    }

    private String rootLinkPrefix(int i) {
        checkProxy(i);
        return "198.18." + (8 * slot().number() + i);
    }

    private void checkProxy(int i) {
        if (i < 1 || i > proxies) {
            throw new IllegalArgumentException("proxy: " + i + " (expected: 1-" + proxies + ")");
        }
    }

    private static List<String> prefix(String namespace) {
        return List.of(ipBinary(), "netns", "exec", namespace);
    }

    private static String namespaceName(long pid, int slot, String role) {
        return "wharf-" + pid + "-" + slot + "-" + role;
    }

    private static String rootLinkName(int slot, int i) {
        return "wh" + PID + "s" + slot + "p" + i;
    }

    /**
     * Builds the topology of slot {@code s}, recording each piece in {@code made} as it is created, so that a
     * failure halfway tears down exactly what exists.
     */
    private void create(int s, Created made) {
        String up = namespaceName(PID, s, "up");
        String upNet = "198.18." + (100 + s);
        addNamespace(up, made);
        ip("-n", up, "addr", "add", upNet + ".1/32", "dev", "lo");
        for (int i = 1; i <= proxies; i++) {
            String w = namespaceName(PID, s, "w" + i);
            String rootNet = "198.18." + (8 * s + i);
            addNamespace(w, made);

            // test JVM <-> Wi
            String rootLink = rootLinkName(s, i);
            ip("link", "add", rootLink, "type", "veth", "peer", "name", "to-root", "netns", w);
            made.rootLinks.add(rootLink);
            disableIpv6OnRootLink(rootLink);
            ip("addr", "add", rootNet + ".1/30", "dev", rootLink);
            ip("link", "set", rootLink, "up");
            ip("-n", w, "addr", "add", rootNet + ".2/30", "dev", "to-root");
            ip("-n", w, "link", "set", "to-root", "up");

            // Wi <-> U: a /30 inside U's /24, so the root namespace's unreachable route covers it too
            ip("-n", w, "link", "add", "to-up", "type", "veth", "peer", "name", "to-w" + i, "netns", up);
            ip("-n", w, "addr", "add", upNet + "." + (4 * i + 1) + "/30", "dev", "to-up");
            ip("-n", w, "link", "set", "to-up", "up");
            ip("-n", up, "addr", "add", upNet + "." + (4 * i + 2) + "/30", "dev", "to-w" + i);
            ip("-n", up, "link", "set", "to-w" + i, "up");
            ip("-n", w, "route", "add", upNet + ".0/24", "via", upNet + "." + (4 * i + 2));
        }
        ip("route", "add", "unreachable", upNet + ".0/24");
        made.route = upNet + ".0/24";
    }

    private static void addNamespace(String name, Created made) {
        try {
            ip("netns", "add", name);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(NEEDS + ": `ip netns add " + name + "` failed", e);
        }
        made.namespaces.add(name);
        // Before any link exists: IPv6 off, so no link-local addresses; forwarding off, so W never routes
        // the test JVM's packets on to U.
        Placement.LOOPBACK.run(List.of(ipBinary(), "netns", "exec", name, "sh", "-c",
                "echo 0 > /proc/sys/net/ipv4/ip_forward"
                        + " && for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6;"
                        + " do if [ -e $f ]; then echo 1 > $f; fi; done"), IP_TIMEOUT);
        ip("-n", name, "link", "set", "lo", "up");
    }

    private static void disableIpv6OnRootLink(String link) {
        Path knob = Path.of("/proc/sys/net/ipv6/conf", link, "disable_ipv6");
        if (Files.exists(knob)) {
            try {
                Files.writeString(knob, "1\n");
            } catch (IOException e) {
                throw new IllegalStateException("cannot write " + knob + ": " + e, e);
            }
        }
    }

    /** What this topology created, in creation order, torn down in reverse. */
    private static final class Created {
        final List<String> namespaces = new ArrayList<>();
        final List<String> rootLinks = new ArrayList<>();
        volatile String route;

        void tearDown() {
            RuntimeException failure = null;
            for (String ns : namespaces) {
                failure = attempt(failure, () -> killProcessesIn(ns));
            }
            // Deleting a veth removes both ends at once; a namespace's own veths go away with it, later.
            for (String link : rootLinks) {
                failure = attempt(failure, () -> ip("link", "del", link));
            }
            for (String ns : namespaces) {
                failure = attempt(failure, () -> ip("netns", "del", ns));
            }
            String r = route;
            if (r != null) {
                failure = attempt(failure, () -> ip("route", "del", "unreachable", r));
            }
            if (failure != null) {
                throw failure;
            }
        }
    }

    private static RuntimeException attempt(RuntimeException failure, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            if (failure == null) {
                return e;
            }
            failure.addSuppressed(e);
        }
        return failure;
    }

    /** SIGKILLs every process in {@code namespace} and waits until they are gone. */
    private static void killProcessesIn(String namespace) {
        List<ProcessHandle> inside = ip("netns", "pids", namespace).lines()
                .map(String::trim)
                .filter(l -> !l.isEmpty())
                .map(l -> ProcessHandle.of(Long.parseLong(l)))
                .flatMap(java.util.Optional::stream)
                .toList();
        inside.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : inside) {
            try {
                h.onExit().get(IP_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // A process we cannot reap must not stop the rest of the teardown.
            }
        }
    }

    // ---- slots and leftovers ----

    /**
     * Locks the first free slot, and on the way removes the leftovers of every slot no live JVM holds.
     * The lock is held for the topology's lifetime; the kernel drops it when the JVM dies, however it dies.
     */
    private static Slot claimSlot() {
        synchronized (HELD) {
            try {
                Files.createDirectories(LOCK_DIR);
            } catch (IOException e) {
                throw new IllegalStateException(NEEDS + ": cannot create " + LOCK_DIR + ": " + e, e);
            }
            Slot claimed = null;
            List<String> skipped = new ArrayList<>();
            for (int s = 0; s < SLOTS; s++) {
                if (HELD.contains(s)) {
                    skipped.add(s + ": held by this JVM");
                    continue;
                }
                Slot candidate = Slot.tryLock(s);
                if (candidate == null) {
                    skipped.add(s + ": held by another process");
                    continue;
                }
                String busy = removeLeftovers(s);
                if (busy != null || claimed != null) {
                    if (busy != null) {
                        skipped.add(s + ": " + busy);
                    }
                    candidate.release();
                } else {
                    claimed = candidate;
                }
            }
            if (claimed == null) {
                throw new IllegalStateException("no free network topology slot (expected one of 0-" + (SLOTS - 1)
                        + " to be free): " + skipped);
            }
            return claimed;
        }
    }

    /**
     * Deletes what dead JVMs left of slot {@code s} (namespaces, root veths, the unreachable route); returns
     * null if the slot's addresses are then free, else why not.
     */
    private static String removeLeftovers(int s) {
        for (String ns : ip("netns", "list").lines().map(l -> l.split("\\s+")[0]).toList()) {
            Matcher m = NAMESPACE.matcher(ns);
            if (m.matches() && Integer.parseInt(m.group(2)) == s) {
                long pid = Long.parseLong(m.group(1));
                if (pid != PID && ProcessHandle.of(pid).isPresent()) {
                    return "namespace " + ns + " of live process " + pid;
                }
                killProcessesIn(ns);
                ip("netns", "del", ns);
            }
        }
        Matcher link = ROOT_LINK.matcher(ip("-o", "link", "show"));
        while (link.find()) {
            long pid = Long.parseLong(link.group(2));
            if (Integer.parseInt(link.group(3)) == s && (pid == PID || ProcessHandle.of(pid).isEmpty())) {
                ip("link", "del", link.group(1));
            }
        }
        String upNet = "198.18." + (100 + s) + ".0/24";
        if (ip("route", "show", "table", "main").lines().anyMatch(l -> l.trim().equals("unreachable " + upNet))) {
            ip("route", "del", "unreachable", upNet);
        }
        // Whatever else still uses the slot's addresses is not ours to delete.
        Set<String> slotPrefixes = new HashSet<>();
        slotPrefixes.add("198.18." + (100 + s) + ".");
        IntStream.rangeClosed(1, MAX_PROXIES).forEach(i -> slotPrefixes.add("198.18." + (8 * s + i) + "."));
        for (String route : ip("route", "show", "table", "all").lines().toList()) {
            for (String token : route.trim().split("\\s+", 3)) {
                if (slotPrefixes.stream().anyMatch(token::startsWith)) {
                    return "route in use: " + route.trim();
                }
            }
        }
        return null;
    }

    /** A slot's lock, held while the topology lives. */
    private record Slot(int number, FileChannel channel, FileLock lock) {
        static Slot tryLock(int number) {
            FileChannel channel = null;
            try {
                channel = FileChannel.open(LOCK_DIR.resolve("slot-" + number + ".lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = channel.tryLock();
                if (lock == null) {
                    channel.close();
                    return null;
                }
                HELD.add(number);
                return new Slot(number, channel, lock);
            } catch (IOException | OverlappingFileLockException e) {
                if (channel != null) {
                    try {
                        channel.close();
                    } catch (IOException ignored) {
                        // nothing held
                    }
                }
                throw new IllegalStateException("cannot lock " + LOCK_DIR.resolve("slot-" + number + ".lock") + ": " + e, e);
            }
        }

        void release() {
            synchronized (HELD) {
                try {
                    channel.close(); // releases the lock
                } catch (IOException ignored) {
                    // the lock goes with the process anyway
                }
                HELD.remove(number);
            }
        }
    }

    // ---- root and ip ----

    private static void requireRootAndIp() {
        long uid = uid();
        if (uid != 0) {
            throw new IllegalStateException(NEEDS + "; this JVM runs as uid " + uid);
        }
        ipBinary();
    }

    private static String ipBinary() {
        try {
            return ChildProcess.findBinary("ip", "iproute2", List.of(Path.of("/usr/sbin"), Path.of("/sbin"))).toString();
        } catch (IllegalStateException e) {
            throw new IllegalStateException(NEEDS + ": " + e.getMessage(), e);
        }
    }

    /** Runs {@code ip ARGS...} in the root namespace and returns its output; throws with it on failure. */
    private static String ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ipBinary()));
        cmd.addAll(List.of(args));
        return Placement.LOOPBACK.run(cmd, IP_TIMEOUT);
    }

    private static long uid() {
        // Not Files.readString: procfs reports size 0 and it would return the first byte only.
        try (InputStream in = Files.newInputStream(Path.of("/proc/self/status"))) {
            String status = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            return status.lines().filter(l -> l.startsWith("Uid:")).map(l -> Long.parseLong(l.split("\\s+")[1]))
                    .findFirst().orElseThrow();
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException(NEEDS + "; cannot tell this JVM's uid from /proc/self/status: " + e, e);
        }
    }

    private void registerShutdownHook() {
        // Runs if the test JVM exits without reaching afterAll. Unsynchronized on purpose: a test thread
        // may hold the lock. The slot's file lock goes with the process.
        shutdownHook = new Thread(() -> {
            Created made = created;
            if (made != null) {
                try {
                    made.tearDown();
                } catch (RuntimeException e) {
                    System.err.println("wharf: network topology teardown failed: " + e);
                }
            }
        }, "wharf-netns-cleanup");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }
}
