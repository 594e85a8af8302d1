package dev.wharf.chart;

import static dev.wharf.chart.RenderedChart.NAMESPACE;
import static dev.wharf.chart.RenderedChart.RELEASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.config.ConfigParser;
import dev.wharf.config.Endpoint;
import dev.wharf.config.KafkaSettings;
import dev.wharf.config.ListenerConfig;
import dev.wharf.config.Protocol;
import dev.wharf.config.RedisClusterSettings;
import dev.wharf.config.WharfConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kafka and redis-cluster listeners: their sections as Wharf parses them, and every broker and node port exposed. */
class ChartProtocolListenersTest {
    // The default values: brokers 1-3 at 19100 + id, two Redis Cluster nodes.
    private static final Map<String, Integer> KAFKA_PORTS =
            Map.of("kafka", 19092, "kafka-19101", 19101, "kafka-19102", 19102, "kafka-19103", 19103);
    private static final Map<String, Integer> REDIS_PORTS =
            Map.of("redis", 16379, "redis-16380", 16380, "redis-16381", 16381);
    private static final Map<Endpoint, Integer> NODE_PORTS = Map.of(new Endpoint("172.19.0.60", 6379, 0), 16380,
            new Endpoint("172.19.0.61", 6379, 0), 16381);
    private static final String SERVICE_DNS_NAME = RELEASE + "." + NAMESPACE + ".svc";
    // A container port name (IANA_SVC_NAME), the strictest rule a port name meets in Kubernetes.
    private static final Pattern PORT_NAME = Pattern.compile("(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*");

    private static final RenderedChart DEFAULTS = RenderedChart.defaults();
    private static final RenderedChart ALL = RenderedChart.allFeatures();

    @TempDir
    Path dir;

    @Test
    void defaultKafkaAndRedisListenersParseWithWharfsParserIntoTheirSections() throws Exception {
        // when: Wharf parses what the default values render
        WharfConfig config = ConfigParser.parse(DEFAULTS.wharfConfig(), "rendered");

        // then: kafka has its broker port base, and reference.conf's values for what the chart leaves unset
        ListenerConfig kafka = config.listeners().get("kafka");
        assertEquals(Protocol.KAFKA, kafka.protocol());
        KafkaSettings reference = referenceKafka();
        assertEquals(new KafkaSettings(SERVICE_DNS_NAME, 19100, reference.maxNodeId(), reference.metadataRefresh(),
                reference.releaseAfter(), reference.maxFrameSize()), kafka.kafka());
        assertNull(kafka.redisCluster());

        // and: redis is seeded with two nodes and gives each its own port
        ListenerConfig redis = config.listeners().get("redis");
        assertEquals(Protocol.REDIS_CLUSTER, redis.protocol());
        assertEquals(List.of("172.19.0.60:6379", "172.19.0.61:6379"),
                redis.upstream().endpoints().stream().map(e -> e.address()).toList());
        RedisClusterSettings referenceRedis = referenceRedisCluster();
        assertEquals(new RedisClusterSettings(SERVICE_DNS_NAME, NODE_PORTS, null, referenceRedis.releaseAfter(),
                referenceRedis.maxReplySize()), redis.redisCluster());
        assertNull(redis.kafka());

        // and: postgres stays tcp; opensearch is http (ChartHttpListenersTest)
        assertEquals(Protocol.TCP, config.listeners().get("postgres").protocol());
        assertEquals(Protocol.HTTP, config.listeners().get("opensearch").protocol());
    }

    @Test
    void everyProtocolValueRendersAsWharfParsesIt() throws Exception {
        // given: every optional value, sizes in both forms, an IPv6 node and a dynamic range on one replica
        // (nodePorts merges with the default's, so a default node is dropped with null)
        Path values = Files.writeString(dir.resolve("values.yaml"), """
                replicaCount: 1
                listeners:
                  kafka:
                    kafka:
                      advertisedHost: kafka.example.com
                      brokerPortBase: 20000
                      brokerIds: [0, 7]
                      maxNodeId: 7
                      metadataRefresh: 500ms
                      releaseAfter: 0s
                      maxFrameSize: 16MiB
                  redis:
                    redisCluster:
                      advertisedHost: "fd00::10"
                      nodePorts:
                        "172.19.0.60:6379": 16380
                        "172.19.0.61:6379": null
                        "[fd00::1]:6379": 16390
                      dynamicPorts: "17000-17003"
                      releaseAfter: 1h
                      maxReplySize: 1048576
                """);
        RenderedChart chart = RenderedChart.render(List.of(values));

        // when
        WharfConfig config = ConfigParser.parse(chart.wharfConfig(), "rendered");

        // then
        assertEquals(new KafkaSettings("kafka.example.com", 20000, 7, Duration.ofMillis(500), Duration.ZERO, 16 << 20),
                config.listeners().get("kafka").kafka());
        assertEquals(new RedisClusterSettings("fd00::10", Map.of(new Endpoint("172.19.0.60", 6379, 0), 16380,
                        new Endpoint("fd00::1", 6379, 0), 16390),
                        new RedisClusterSettings.PortRange(17000, 17003), Duration.ofHours(1), 1 << 20),
                config.listeners().get("redis").redisCluster());

        // and: every port Wharf would bind for them is exposed: brokers 0 and 7, both nodes, the whole range
        Set<Integer> exposed = Set.of(19092, 20000, 20007, 16379, 16380, 16390, 17000, 17001, 17002, 17003);
        assertEquals(exposed, servicePorts(chart.get(Service.class, RELEASE)).values().stream()
                .filter(p -> p != 15432 && p != 19200 && p != 9901).collect(Collectors.toSet()));
        assertEquals(Set.of("redis", "redis-16380", "redis-16390", "redis-17000", "redis-17001", "redis-17002",
                "redis-17003"), servicePorts(chart.get(Service.class, RELEASE)).keySet().stream()
                .filter(name -> name.startsWith("redis")).collect(Collectors.toSet()));
    }

    @Test
    void advertisedHostDefaultsToTheClusterIpServicesDnsName() throws Exception {
        // given: the ClusterIP Service the chart renders (the one the ServiceMonitor scrapes)
        Service service = DEFAULTS.all(Service.class)
                .filter(s -> "true".equals(s.getMetadata().getLabels().get("wharf.dev/metrics"))).findFirst().orElseThrow();
        String dnsName = service.getMetadata().getName() + "." + service.getMetadata().getNamespace() + ".svc";

        // when
        WharfConfig config = ConfigParser.parse(DEFAULTS.wharfConfig(), "rendered");

        // then: a client resolving it reaches any replica
        assertEquals(SERVICE_DNS_NAME, dnsName);
        assertEquals(dnsName, config.listeners().get("kafka").kafka().advertisedHost());
        assertEquals(dnsName, config.listeners().get("redis").redisCluster().advertisedHost());

        // and: it follows the Service's name
        RenderedChart renamed = RenderedChart.render(List.of(), "fullnameOverride", "gw");
        renamed.get(Service.class, "gw");
        WharfConfig renamedConfig = ConfigParser.parse(renamed.wharfConfig("gw"), "rendered");
        assertEquals("gw." + NAMESPACE + ".svc", renamedConfig.listeners().get("kafka").kafka().advertisedHost());
        assertEquals("gw." + NAMESPACE + ".svc", renamedConfig.listeners().get("redis").redisCluster().advertisedHost());
    }

    @Test
    void clusterIpServiceAndPodsExposeEveryBrokerAndNodePortWithValidUniqueNames() throws Exception {
        Service service = DEFAULTS.get(Service.class, RELEASE);
        Map<String, Integer> ports = servicePorts(service);

        // then: the listener's own port and each broker's and node's, by the port Wharf gives it
        assertTrue(ports.entrySet().containsAll(KAFKA_PORTS.entrySet()), ports::toString);
        assertTrue(ports.entrySet().containsAll(REDIS_PORTS.entrySet()), ports::toString);
        WharfConfig config = ConfigParser.parse(DEFAULTS.wharfConfig(), "rendered");
        KafkaSettings kafka = config.listeners().get("kafka").kafka();
        for (int broker : List.of(1, 2, 3)) {
            assertEquals(kafka.portOf(broker), ports.get("kafka-" + kafka.portOf(broker)), "broker " + broker);
        }
        config.listeners().get("redis").redisCluster().nodePorts().forEach(
                (node, port) -> assertEquals(port, ports.get("redis-" + port), node.address()));
        service.getSpec().getPorts().stream().filter(p -> !p.getName().equals("admin"))
                .forEach(p -> assertEquals(new IntOrString(p.getPort()), p.getTargetPort(), p.getName()));
        assertEquals(service.getSpec().getPorts().size(), ports.size(), "port names are unique");
        ports.keySet().forEach(name -> assertTrue(PORT_NAME.matcher(name).matches(), name));

        // and: the pods have the same ports
        Container wharf = DEFAULTS.get(Deployment.class, RELEASE).getSpec().getTemplate().getSpec().getContainers().get(0);
        List<Integer> containerPorts = wharf.getPorts().stream().map(ContainerPort::getContainerPort).toList();
        assertEquals(Set.copyOf(ports.values()), Set.copyOf(containerPorts));
        assertEquals(containerPorts.size(), Set.copyOf(containerPorts).size(), "no container port twice");
    }

    @Test
    void aliasServicesTheLoadBalancerAndTheNetworkPolicyExposeTheBrokerAndNodePortsToo() {
        assertEquals(KAFKA_PORTS, servicePorts(ALL.get(Service.class, "kafka-external")));
        assertEquals(REDIS_PORTS, servicePorts(ALL.get(Service.class, "redis-external")));
        assertEquals(Map.of("postgres", 15432), servicePorts(ALL.get(Service.class, "postgres-external")));

        Map<String, Integer> lb = servicePorts(ALL.get(Service.class, RELEASE + "-lb"));
        assertTrue(lb.entrySet().containsAll(KAFKA_PORTS.entrySet()), lb::toString);
        assertTrue(lb.entrySet().containsAll(REDIS_PORTS.entrySet()), lb::toString);

        NetworkPolicy policy = ALL.get(NetworkPolicy.class, RELEASE);
        Set<Integer> allowed = policy.getSpec().getIngress().get(0).getPorts().stream()
                .map(p -> p.getPort().getIntVal()).collect(Collectors.toSet());
        assertTrue(allowed.containsAll(KAFKA_PORTS.values()), allowed::toString);
        assertTrue(allowed.containsAll(REDIS_PORTS.values()), allowed::toString);
    }

    @Test
    void aListenerLeftOffTheLoadBalancerTakesItsBrokerPortsWithIt() {
        RenderedChart chart = RenderedChart.render(List.of(RenderedChart.ALL_FEATURES, writeValues("""
                loadBalancer:
                  listeners: [postgres, redis]
                """)));
        Map<String, Integer> expected = new TreeMap<>(REDIS_PORTS);
        expected.put("postgres", 15432);
        assertEquals(expected, servicePorts(chart.get(Service.class, RELEASE + "-lb")));
        assertEquals(KAFKA_PORTS, servicePorts(chart.get(Service.class, "kafka-external")), "in the cluster still");
    }

    @Test
    void dynamicPortsOnOneReplicaAreExposedPortByPort() {
        RenderedChart chart = RenderedChart.render(List.of(writeValues("""
                replicaCount: 1
                listeners:
                  redis:
                    redisCluster:
                      dynamicPorts: "17000-17009"
                """)));
        Set<Integer> expected = new TreeSet<>(REDIS_PORTS.values());
        IntStream.rangeClosed(17000, 17009).forEach(expected::add);
        assertEquals(expected, servicePorts(chart.get(Service.class, RELEASE)).entrySet().stream()
                .filter(e -> e.getKey().startsWith("redis")).map(Map.Entry::getValue).collect(Collectors.toCollection(TreeSet::new)));
        Container wharf = chart.get(Deployment.class, RELEASE).getSpec().getTemplate().getSpec().getContainers().get(0);
        assertTrue(wharf.getPorts().stream().map(ContainerPort::getContainerPort).collect(Collectors.toSet())
                .containsAll(expected));
    }

    @Test
    void theChartsDefaultMaxNodeIdIsWharfsSoItReservesTheSameBrokerPorts() throws Exception {
        // given: Wharf's own default, which the chart must assume when maxNodeId is not set
        int maxNodeId = referenceKafka().maxNodeId();

        // when: another listener takes the first port past the reserved range, it renders ...
        RenderedChart chart = RenderedChart.render(List.of(), "listeners.opensearch.port", 19100 + maxNodeId + 1);
        ConfigParser.parse(chart.wharfConfig(), "rendered");

        // ... and the last port of the range is refused by the chart, as Wharf would refuse it
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RenderedChart.render(List.of(), "listeners.opensearch.port", 19100 + maxNodeId));
        assertTrue(e.getMessage().contains("listeners.kafka.kafka.brokerPortBase: the broker ports 19100-"
                + (19100 + maxNodeId) + " (brokerPortBase + 0 to maxNodeId) include " + (19100 + maxNodeId)
                + ", already used by listeners.opensearch.port"), e::getMessage);
    }

    private Path writeValues(String yaml) {
        try {
            return Files.writeString(Files.createTempFile(dir, "values", ".yaml"), yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, Integer> servicePorts(Service service) {
        Map<String, Integer> ports = new TreeMap<>();
        for (ServicePort port : service.getSpec().getPorts()) {
            assertEquals("TCP", port.getProtocol(), port.getName());
            ports.put(port.getName(), port.getPort());
        }
        return ports;
    }

    /** A kafka listener with only what is required: reference.conf's defaults for the rest. */
    private static KafkaSettings referenceKafka() throws Exception {
        return ConfigParser.parse("wharf.listeners.x { port = 1, protocol = kafka, upstream.endpoints = [\"h:1\"],"
                + " kafka { advertised-host = h, broker-port-base = 100 } }", "reference").listeners().get("x").kafka();
    }

    private static RedisClusterSettings referenceRedisCluster() throws Exception {
        return ConfigParser.parse("wharf.listeners.x { port = 1, protocol = redis-cluster, upstream.endpoints = [\"h:1\"],"
                + " redis-cluster { advertised-host = h, node-ports { \"h:1\" = 2 } } }", "reference")
                .listeners().get("x").redisCluster();
    }
}
