package dev.wharf.testing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.common.Uuid;

/**
 * A real three-node Kafka 4 cluster in KRaft combined mode (each node broker and controller, node ids 1, 2
 * and 3), run from the broker jars on the test classpath ({@code org.apache.kafka:kafka_2.13}, which
 * proxy-k8s has as a test dependency), each node a {@link KafkaBroker} JVM with 512 MiB of heap.
 *
 * <pre>{@code
 * @RegisterExtension @Order(1) static final NetworkTopology TOPOLOGY = new NetworkTopology();
 * @RegisterExtension @Order(2) static final KafkaCluster KAFKA = new KafkaCluster(TOPOLOGY::upstream);
 * }</pre>
 *
 * <p>Replication is 3 with {@code min.insync.replicas} 2 for every topic, the internal ones included, and
 * the brokers' heartbeat and session timeouts are short (0.5 s, 3 s), so a {@code kill -9} of a broker moves
 * its partitions' leadership within seconds. At {@link Placement#LOOPBACK} the nodes take free ports on
 * 127.0.0.1; in a namespace of their own node {@code i} listens on {@code 9090+i}, its controller on
 * {@code 9190+i}.
 *
 * <p>Nothing here connects from the test JVM: a node is ready when its log says it started (which KRaft
 * says only once it is unfenced), and the cluster-wide checks and admin calls run {@link KafkaAdminCommand}
 * in a JVM of its own where the brokers run, or from another {@link Placement} (a proxy namespace). Each
 * such call costs a JVM start, about a second. {@link #close()} kills every node and deletes its directory.
 */
public final class KafkaCluster extends ClassScoped {

    public static final int SIZE = 3;
    /** Node {@code i}'s broker port in a namespace of its own: {@code FIRST_PORT + i - 1}; its controller's is 100 above. */
    public static final int FIRST_PORT = 9091;

    private static final int CONTROLLER_PORT_OFFSET = 100;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(60);
    private static final String ADMIN_LOGBACK_CONFIG = "dev/wharf/testing/kafka-admin-logback.xml";
    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

    private final Supplier<Placement> placement;
    private volatile Placement where;
    private volatile List<KafkaBroker> brokers = List.of();

    /** On 127.0.0.1. */
    public KafkaCluster() {
        this(() -> Placement.LOOPBACK);
    }

    /**
     * At the placement {@code where} supplies when the cluster starts: a topology's namespaces and addresses
     * exist only once it has started, after this field was initialized.
     */
    public KafkaCluster(Supplier<Placement> where) {
        this.placement = where;
    }

    // ---- lifecycle ----

    /** Formats and starts the three nodes together, and waits until all three are registered brokers. */
    @Override
    public synchronized void start() {
        if (!brokers.isEmpty()) {
            return;
        }
        requireBrokerClasses();
        startOrClose(() -> {
            where = placement.get();
            String clusterId = Uuid.randomUuid().toString();
            int[] ports = ports(where);
            String voters = IntStream.rangeClosed(1, SIZE)
                    .mapToObj(id -> id + "@" + where.host() + ":" + ports[SIZE + id - 1])
                    .collect(Collectors.joining(","));
            brokers = IntStream.rangeClosed(1, SIZE)
                    .mapToObj(id -> new KafkaBroker(id, where, ports[id - 1], ports[SIZE + id - 1], clusterId, voters))
                    .toList();
            // Together: no node reports started before a majority of controllers has elected a leader.
            ChildProcess.startAll(brokers);
            awaitBrokers(nodeIds(), START_TIMEOUT);
        });
    }

    /** Kills every node and deletes their directories. Safe to call twice. */
    @Override
    public synchronized void close() {
        try {
            ChildProcess.closeAll(brokers);
        } finally {
            brokers = List.of();
        }
    }

    // ---- brokers ----

    /** {@code host:port,host:port,host:port}: every broker listener, as clients are configured. */
    public String bootstrap() {
        return brokers().stream().map(KafkaBroker::address).collect(Collectors.joining(","));
    }

    /** 1, 2, 3. */
    public List<Integer> nodeIds() {
        return brokers().stream().map(KafkaBroker::nodeId).toList();
    }

    /** The node with {@code nodeId}: {@link KafkaBroker#kill()} is a {@code kill -9}, {@link KafkaBroker#start()} starts it again. */
    public KafkaBroker broker(int nodeId) {
        return brokers().stream().filter(b -> b.nodeId() == nodeId).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("nodeId: " + nodeId + " (expected one of " + nodeIds() + ")"));
    }

    public List<KafkaBroker> brokers() {
        List<KafkaBroker> all = brokers;
        if (all.isEmpty()) {
            throw new IllegalStateException("the Kafka cluster has not been started");
        }
        return all;
    }

    /** Starts a killed or stopped node again, and waits until every running node is a registered broker. */
    public void restart(KafkaBroker broker) {
        broker.start();
        awaitBrokers(brokers().stream().filter(ChildProcess::isRunning).map(KafkaBroker::nodeId).toList(), START_TIMEOUT);
    }

    // ---- admin, run where the brokers run ----

    /** Waits until exactly {@code nodeIds} are registered, unfenced brokers (as {@code DescribeCluster} lists them). */
    public void awaitBrokers(Collection<Integer> nodeIds, Duration timeout) {
        String ids = nodeIds.stream().map(String::valueOf).collect(Collectors.joining(","));
        admin(where(), timeout.plusSeconds(30), "await-brokers", Long.toString(timeout.toMillis()), ids);
    }

    /** Waits until every partition of every topic, the internal ones too, has a leader and all its replicas in sync. */
    public void awaitInSync(Duration timeout) {
        admin(where(), timeout.plusSeconds(30), "await-in-sync", Long.toString(timeout.toMillis()));
    }

    /** Creates {@code name} with {@code partitions} partitions, replicated on all three brokers; returns its partitions. */
    public List<PartitionState> createTopic(String name, int partitions) {
        return PartitionState.parse(admin(where(), ADMIN_TIMEOUT, "create-topic", name, Integer.toString(partitions)));
    }

    /** The partitions of {@code topic}: leader, replicas and ISR, as the cluster reports them now. */
    public List<PartitionState> describeTopic(String topic) {
        return PartitionState.parse(admin(where(), ADMIN_TIMEOUT, "describe-topic", topic));
    }

    /** Partition to leader's node id (-1 for none) of {@code topic}, now. */
    public Map<Integer, Integer> leaders(String topic) {
        Map<Integer, Integer> leaders = new TreeMap<>();
        describeTopic(topic).forEach(p -> leaders.put(p.partition(), p.leader()));
        return leaders;
    }

    /**
     * Runs {@link KafkaAdminCommand} {@code args} against {@link #bootstrap()} from {@code from} (the brokers'
     * own placement, or a proxy namespace to show it reaches them) and returns its output; throws with the
     * output if it fails.
     */
    public String admin(Placement from, Duration timeout, String... args) {
        List<String> cmdArgs = new ArrayList<>(List.of("-Dlogback.configurationFile=" + ADMIN_LOGBACK_CONFIG,
                KafkaAdminCommand.class.getName(), bootstrap()));
        cmdArgs.addAll(Arrays.asList(args));
        Placement.Completed done = from.attempt(java("128m", cmdArgs.toArray(String[]::new)), timeout);
        if (done.exitCode() != 0) {
            throw new IllegalStateException("KafkaAdminCommand " + String.join(" ", args) + " from " + from + " failed: "
                    + done.output().strip() + diagnostics());
        }
        return done.output();
    }

    /** One partition as {@link KafkaAdminCommand} describes it. */
    public record PartitionState(int partition, int leader, List<Integer> replicas, List<Integer> isr) {

        static List<PartitionState> parse(String output) {
            return output.lines().map(String::trim).filter(l -> !l.isEmpty()).map(PartitionState::parseLine).toList();
        }

        private static PartitionState parseLine(String line) {
            String[] f = line.split(" ", -1);
            if (f.length != 4) {
                throw new IllegalStateException("not a partition line (PARTITION LEADER REPLICAS ISR): \"" + line + "\"");
            }
            return new PartitionState(Integer.parseInt(f[0]), Integer.parseInt(f[1]), ids(f[2]), ids(f[3]));
        }

        private static List<Integer> ids(String list) {
            return list.isEmpty() ? List.of() : Arrays.stream(list.split(",")).map(Integer::parseInt).toList();
        }
    }

    // ---- internals ----

    /**
     * {@code java -Xmx<heap> -cp <the test classpath> args...}, with C1 only and the serial collector: on two
     * cores, three brokers started together were ready in 6-8 s so, in 22 s with the default C2 and G1 threads.
     */
    static List<String> java(String heap, String... args) {
        List<String> cmd = new ArrayList<>(List.of(JAVA.toString(), "-Xmx" + heap, "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC", "-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path")));
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    private Placement where() {
        Placement p = where;
        if (p == null) {
            throw new IllegalStateException("the Kafka cluster has not been started");
        }
        return p;
    }

    /** Broker ports then controller ports, six distinct. */
    private static int[] ports(Placement where) {
        if (!where.inTestNamespace()) {
            return IntStream.concat(IntStream.range(0, SIZE).map(i -> FIRST_PORT + i),
                    IntStream.range(0, SIZE).map(i -> FIRST_PORT + CONTROLLER_PORT_OFFSET + i)).toArray();
        }
        Set<Integer> ports = new LinkedHashSet<>();
        while (ports.size() < 2 * SIZE) {
            ports.add(LoopbackPorts.free());
        }
        return ports.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void requireBrokerClasses() {
        ClassLoader loader = KafkaCluster.class.getClassLoader();
        try {
            Class.forName("kafka.Kafka", false, loader);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("KafkaCluster runs its brokers from the test classpath, which has no kafka.Kafka:"
                    + " add org.apache.kafka:kafka_2.13 (test scope; the parent pom manages its version) to this module's pom, as proxy-k8s has", e);
        }
        try {
            Class.forName("ch.qos.logback.classic.Logger", false, loader);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("KafkaCluster tells a broker is up from its log, written through logback:"
                    + " add ch.qos.logback:logback-classic (test scope) to this module's pom", e);
        }
    }

    private String diagnostics() {
        StringBuilder sb = new StringBuilder();
        for (KafkaBroker b : brokers) {
            sb.append("\n--- ").append(b).append(", last 15 log lines ---\n").append(b.logTail(15));
        }
        return sb.toString();
    }
}
