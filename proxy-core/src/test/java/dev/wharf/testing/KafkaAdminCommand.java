package dev.wharf.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * The Kafka Admin client as a command, which {@link KafkaCluster} runs in its own JVM where the brokers
 * run (inside a namespace the test JVM cannot reach) or from a proxy namespace:
 *
 * <pre>
 * KafkaAdminCommand BOOTSTRAP await-brokers TIMEOUT_MS ID,ID,...   until exactly these brokers are registered and unfenced
 * KafkaAdminCommand BOOTSTRAP await-in-sync TIMEOUT_MS             until every partition has a leader and its ISR is all its replicas
 * KafkaAdminCommand BOOTSTRAP create-topic NAME PARTITIONS         with the brokers' default replication factor
 * KafkaAdminCommand BOOTSTRAP describe-topic NAME                  one line per partition: PARTITION LEADER REPLICAS ISR
 * </pre>
 *
 * Exits 0 with its answer on stdout, or 1 with what went wrong (for a wait, the last state seen).
 */
public final class KafkaAdminCommand {

    private static final Duration POLL = Duration.ofMillis(200);

    private KafkaAdminCommand() {
    }

    public static void main(String[] args) {
        int status;
        try {
            status = run(args);
        } catch (Exception e) {
            System.out.println("error: " + e);
            status = 1;
        }
        System.out.flush();
        // Not a plain return: the Admin client's threads may linger after close.
        System.exit(status);
    }

    private static int run(String[] args) throws Exception {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: KafkaAdminCommand BOOTSTRAP COMMAND ARGS... (got " + Arrays.toString(args) + ")");
        }
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        try (Admin admin = Admin.create(props)) {
            return switch (args[1]) {
                case "await-brokers" -> awaitBrokers(admin, Long.parseLong(arg(args, 2)), ids(arg(args, 3)));
                case "await-in-sync" -> awaitInSync(admin, Long.parseLong(arg(args, 2)));
                case "create-topic" -> createTopic(admin, arg(args, 2), Integer.parseInt(arg(args, 3)));
                case "describe-topic" -> describeTopic(admin, arg(args, 2));
                default -> throw new IllegalArgumentException("command: " + args[1]
                        + " (expected: await-brokers, await-in-sync, create-topic or describe-topic)");
            };
        }
    }

    private static int awaitBrokers(Admin admin, long timeoutMillis, Set<Integer> expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMillis(timeoutMillis).toNanos();
        String last = "no answer yet";
        while (true) {
            try {
                Set<Integer> registered = admin.describeCluster().nodes().get().stream().map(Node::id)
                        .collect(Collectors.toCollection(TreeSet::new));
                if (registered.equals(expected)) {
                    System.out.println("brokers " + registered);
                    return 0;
                }
                last = "brokers " + registered;
            } catch (Exception e) {
                last = e.toString();
            }
            if (System.nanoTime() > deadline) {
                System.out.println("brokers not " + expected + " within " + timeoutMillis + " ms; last: " + last);
                return 1;
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    private static int awaitInSync(Admin admin, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMillis(timeoutMillis).toNanos();
        String last = "no answer yet";
        while (true) {
            try {
                Collection<String> topics = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get();
                List<String> lagging = new ArrayList<>();
                for (TopicDescription topic : admin.describeTopics(topics).allTopicNames().get().values()) {
                    for (TopicPartitionInfo p : topic.partitions()) {
                        if (p.leader() == null || p.leader().isEmpty() || !Set.copyOf(p.isr()).equals(Set.copyOf(p.replicas()))) {
                            lagging.add(topic.name() + "-" + p.partition() + " " + line(p));
                        }
                    }
                }
                if (lagging.isEmpty()) {
                    System.out.println("in sync: " + topics.size() + " topics");
                    return 0;
                }
                last = "not in sync: " + lagging;
            } catch (Exception e) {
                last = e.toString();
            }
            if (System.nanoTime() > deadline) {
                System.out.println("partitions not in sync within " + timeoutMillis + " ms; last: " + last);
                return 1;
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    /** Creates the topic and waits (up to 30 s) until every broker's metadata has it and each partition has a leader. */
    private static int createTopic(Admin admin, String name, int partitions) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, Optional.of(partitions), Optional.empty()))).all().get();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                TopicDescription topic = admin.describeTopics(List.of(name)).allTopicNames().get().get(name);
                if (topic.partitions().size() == partitions
                        && topic.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                    return describeTopic(admin, name);
                }
            } catch (ExecutionException e) {
                // The answering broker has not seen the new topic yet: metadata reaches the brokers a moment later.
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
                    throw e;
                }
            }
            if (System.nanoTime() > deadline) {
                System.out.println("topic " + name + " created, but not all " + partitions + " partitions have a leader within 30 s");
                return 1;
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    private static int describeTopic(Admin admin, String name) throws Exception {
        TopicDescription topic = admin.describeTopics(List.of(name)).allTopicNames().get().get(name);
        Map<Integer, String> lines = new TreeMap<>();
        topic.partitions().forEach(p -> lines.put(p.partition(), p.partition() + " " + line(p)));
        lines.values().forEach(System.out::println);
        return 0;
    }

    /** {@code LEADER REPLICAS ISR}, e.g. {@code 2 2,3,1 2,1}; leader -1 when there is none. */
    private static String line(TopicPartitionInfo p) {
        int leader = p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id();
        return leader + " " + ids(p.replicas()) + " " + ids(p.isr());
    }

    private static String ids(List<Node> nodes) {
        return nodes.stream().map(n -> Integer.toString(n.id())).collect(Collectors.joining(","));
    }

    private static Set<Integer> ids(String list) {
        return Arrays.stream(list.split(",")).map(String::trim).map(Integer::parseInt).collect(Collectors.toCollection(TreeSet::new));
    }

    private static String arg(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[1] + ": missing argument " + i + " (got " + Arrays.toString(args) + ")");
        }
        return args[i];
    }
}
