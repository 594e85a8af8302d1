package dev.wharf.chart;

import static dev.wharf.chart.RenderedChart.NAMESPACE;
import static dev.wharf.chart.RenderedChart.RELEASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.config.Balance;
import dev.wharf.config.ConfigParser;
import dev.wharf.config.Endpoint;
import dev.wharf.config.HealthCheck;
import dev.wharf.config.ListenerConfig;
import dev.wharf.config.OnUnhealthy;
import dev.wharf.config.ProxyProtocol;
import dev.wharf.config.UpstreamConfig;
import dev.wharf.config.WharfConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the chart renders, parsed with fabric8's model classes, and what Wharf makes of its config. */
class ChartRenderTest {
    // The seed's table: listener -> port, and the names its connection strings use.
    private static final Map<String, Integer> SEED_PORTS =
            Map.of("postgres", 15432, "redis", 16379, "kafka", 19092, "opensearch", 19200);
    // Every Service port of the listeners: theirs, Kafka's brokers 1-3 and the two Redis Cluster nodes.
    private static final Map<String, Integer> LISTENER_PORTS = Map.of("postgres", 15432, "redis", 16379,
            "redis-16380", 16380, "redis-16381", 16381, "kafka", 19092, "kafka-19101", 19101, "kafka-19102", 19102,
            "kafka-19103", 19103, "opensearch", 19200);
    private static final Map<String, String> ALIASES = Map.of("postgres-external", "postgres",
            "redis-external", "redis", "kafka-external", "kafka", "opensearch-external", "opensearch");
    private static final int ADMIN_PORT = 9901;

    private static final RenderedChart DEFAULTS = RenderedChart.defaults();
    private static final RenderedChart ALL = RenderedChart.allFeatures();

    @Test
    void defaultValuesRenderTheCoreObjectsAndNoOptionalOnes() {
        assertEquals(Set.of("Deployment/wharf", "Service/wharf", "ConfigMap/wharf-base", "ConfigMap/wharf-listeners",
                        "ServiceAccount/wharf", "Role/wharf", "RoleBinding/wharf", "PodDisruptionBudget/wharf"),
                Set.copyOf(DEFAULTS.summary()));
        assertEquals(DEFAULTS.objects.size(), DEFAULTS.summary().size(), "no object twice");
        DEFAULTS.objects.forEach(o -> assertEquals(NAMESPACE, o.getMetadata().getNamespace(), o.getKind()));
    }

    @Test
    void everyFeatureOnRendersTheOptionalObjectsToo() {
        Set<String> kinds = Set.copyOf(ALL.summary());
        assertTrue(kinds.containsAll(DEFAULTS.summary()), () -> "all features: " + kinds);
        assertTrue(kinds.containsAll(List.of("Service/wharf-lb", "Service/postgres-external", "Service/redis-external",
                "Service/kafka-external", "Service/opensearch-external", "NetworkPolicy/wharf", "ServiceMonitor/wharf")),
                () -> "all features: " + kinds);
        assertEquals(DEFAULTS.summary().size() + 7, ALL.summary().size(), () -> "all features: " + kinds);
    }

    @Test
    void deploymentRunsTwoSpreadNonRootReplicasWithResources() {
        Deployment deployment = DEFAULTS.get(Deployment.class, RELEASE);
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        Container wharf = onlyContainer(pod);
        Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();

        assertEquals(2, deployment.getSpec().getReplicas());
        assertEquals(deployment.getSpec().getSelector().getMatchLabels(), selectorOf(podLabels));
        List<TopologySpreadConstraint> spread = pod.getTopologySpreadConstraints();
        assertEquals(List.of("kubernetes.io/hostname", "topology.kubernetes.io/zone"),
                spread.stream().map(TopologySpreadConstraint::getTopologyKey).toList());
        spread.forEach(c -> assertEquals(deployment.getSpec().getSelector().getMatchLabels(),
                c.getLabelSelector().getMatchLabels(), "a spread constraint counts Wharf's own pods"));

        assertEquals(Boolean.TRUE, pod.getSecurityContext().getRunAsNonRoot());
        assertEquals(Boolean.TRUE, wharf.getSecurityContext().getRunAsNonRoot());
        assertEquals(Boolean.TRUE, wharf.getSecurityContext().getReadOnlyRootFilesystem());
        assertEquals(Boolean.FALSE, wharf.getSecurityContext().getAllowPrivilegeEscalation());
        assertEquals(List.of("ALL"), wharf.getSecurityContext().getCapabilities().getDrop());
        assertEquals("/tmp", mountOf(pod, wharf, "tmp").getMountPath(), "a writable /tmp on a read-only root");
        assertTrue(volume(pod, "tmp").getEmptyDir() != null);

        assertTrue(wharf.getResources().getRequests().containsKey("cpu"));
        assertTrue(wharf.getResources().getRequests().containsKey("memory"));
        assertTrue(wharf.getResources().getLimits().containsKey("memory"));
        assertTrue(envValue(wharf, "JAVA_TOOL_OPTIONS").contains("MaxRAMPercentage"), "the heap follows the memory limit");
    }

    @Test
    void deploymentProbesTheAdminPortAndKnowsItsNamespace() {
        Deployment deployment = DEFAULTS.get(Deployment.class, RELEASE);
        Container wharf = onlyContainer(deployment.getSpec().getTemplate().getSpec());

        ContainerPort admin = wharf.getPorts().stream().filter(p -> "admin".equals(p.getName())).findFirst().orElseThrow();
        assertEquals(ADMIN_PORT, admin.getContainerPort());
        assertEquals("/healthz", wharf.getLivenessProbe().getHttpGet().getPath());
        assertEquals(new IntOrString("admin"), wharf.getLivenessProbe().getHttpGet().getPort());
        assertEquals("/readyz", wharf.getReadinessProbe().getHttpGet().getPath());
        assertEquals(new IntOrString("admin"), wharf.getReadinessProbe().getHttpGet().getPort());
        Set<Integer> containerPorts = new HashSet<>(LISTENER_PORTS.values());
        containerPorts.add(ADMIN_PORT);
        assertEquals(containerPorts,
                wharf.getPorts().stream().map(ContainerPort::getContainerPort).collect(Collectors.toSet()));

        EnvVar namespace = env(wharf, "POD_NAMESPACE");
        assertEquals("metadata.namespace", namespace.getValueFrom().getFieldRef().getFieldPath());
        assertEquals("metadata.name", env(wharf, "POD_NAME").getValueFrom().getFieldRef().getFieldPath());

        assertEquals(List.of("--config", "/etc/wharf/wharf.conf"), wharf.getArgs());
        assertEquals("/etc/wharf", mountOf(deployment.getSpec().getTemplate().getSpec(), wharf, "config").getMountPath());
        assertEquals(RELEASE + "-base",
                volume(deployment.getSpec().getTemplate().getSpec(), "config").getConfigMap().getName());
        assertEquals(RELEASE, deployment.getSpec().getTemplate().getSpec().getServiceAccountName());
        DEFAULTS.get(ServiceAccount.class, RELEASE);
    }

    @Test
    void gracePeriodCoversPreStopShutdownDelayAndDrainAsWharfReadsThem() throws Exception {
        // given: the shutdown settings as Wharf itself parses them from the rendered config
        WharfConfig config = ConfigParser.parse(DEFAULTS.wharfConfig(), "rendered");
        Duration longestDrain = config.listeners().values().stream()
                .map(ListenerConfig::drainTimeout).max(Duration::compareTo).orElseThrow();
        PodSpec pod = DEFAULTS.get(Deployment.class, RELEASE).getSpec().getTemplate().getSpec();
        long preStop = onlyContainer(pod).getLifecycle().getPreStop().getSleep().getSeconds();

        // then: SIGTERM comes after the preStop sleep; the pod needs shutdown-delay + drain after it
        assertEquals(Duration.ofSeconds(5), config.shutdownDelay());
        assertEquals(Duration.ofSeconds(30), longestDrain);
        assertEquals(5, preStop);
        long needed = preStop + config.shutdownDelay().toSeconds() + longestDrain.toSeconds();
        assertEquals(45, pod.getTerminationGracePeriodSeconds());
        assertTrue(pod.getTerminationGracePeriodSeconds() >= needed + 5,
                () -> pod.getTerminationGracePeriodSeconds() + " < " + needed + " + 5");
    }

    @Test
    void preStopSleepZeroLeavesTheHookOutAndLowersTheFloor() {
        RenderedChart chart = RenderedChart.render(List.of(),
                "lifecycle.preStopSleepSeconds", 0, "terminationGracePeriodSeconds", 40);
        PodSpec pod = chart.get(Deployment.class, RELEASE).getSpec().getTemplate().getSpec();
        assertNull(onlyContainer(pod).getLifecycle());
        assertEquals(40, pod.getTerminationGracePeriodSeconds());
    }

    @Test
    void clusterIpServiceHasEveryListenerPortAndAdminAndSelectsTheDeploymentsPods() {
        Service service = DEFAULTS.get(Service.class, RELEASE);
        Deployment deployment = DEFAULTS.get(Deployment.class, RELEASE);

        assertEquals("ClusterIP", service.getSpec().getType());
        Map<String, Integer> ports = new TreeMap<>();
        for (ServicePort port : service.getSpec().getPorts()) {
            ports.put(port.getName(), port.getPort());
            assertEquals("TCP", port.getProtocol());
        }
        Map<String, Integer> expected = new TreeMap<>(LISTENER_PORTS);
        expected.put("admin", ADMIN_PORT);
        assertEquals(expected, ports);
        service.getSpec().getPorts().stream().filter(p -> !p.getName().equals("admin"))
                .forEach(p -> assertEquals(new IntOrString(p.getPort()), p.getTargetPort(), p.getName()));
        assertEquals(deployment.getSpec().getSelector().getMatchLabels(), service.getSpec().getSelector());
        assertSelects(service.getSpec().getSelector(), deployment);
    }

    @Test
    void roleGrantsExactlyConfigMapReadsAndEventCreation() {
        Role role = DEFAULTS.get(Role.class, RELEASE);
        Map<String, List<String>> granted = new TreeMap<>();
        for (PolicyRule rule : role.getRules()) {
            assertEquals(List.of(""), rule.getApiGroups(), "the core API group only");
            assertTrue(rule.getResourceNames() == null || rule.getResourceNames().isEmpty());
            assertTrue(rule.getNonResourceURLs() == null || rule.getNonResourceURLs().isEmpty());
            for (String resource : rule.getResources()) {
                granted.merge(resource, List.copyOf(rule.getVerbs()),
                        (a, b) -> java.util.stream.Stream.concat(a.stream(), b.stream()).toList());
            }
        }
        assertEquals(Map.of("configmaps", List.of("get", "list", "watch"), "events", List.of("create")), granted);

        RoleBinding binding = DEFAULTS.get(RoleBinding.class, RELEASE);
        assertEquals("Role", binding.getRoleRef().getKind());
        assertEquals(RELEASE, binding.getRoleRef().getName());
        assertEquals(1, binding.getSubjects().size());
        assertEquals("ServiceAccount", binding.getSubjects().get(0).getKind());
        assertEquals(RELEASE, binding.getSubjects().get(0).getName());
        assertEquals(NAMESPACE, binding.getSubjects().get(0).getNamespace());
        for (RenderedChart chart : List.of(DEFAULTS, ALL)) {
            assertEquals(0, chart.all(ClusterRole.class).count() + chart.all(ClusterRoleBinding.class).count(),
                    "nothing cluster-wide");
        }
    }

    @Test
    void listenerConfigMapIsWatchedAndHoldsTheSeedsTableAsWharfParsesIt() throws Exception {
        ConfigMap listeners = DEFAULTS.get(ConfigMap.class, RELEASE + "-listeners");
        assertEquals("true", listeners.getMetadata().getLabels().get("wharf.dev/config"));
        assertEquals(Set.of("listeners.conf"), listeners.getData().keySet(), "one .conf fragment");
        ConfigMap base = DEFAULTS.get(ConfigMap.class, RELEASE + "-base");
        assertFalse(base.getMetadata().getLabels().containsKey("wharf.dev/config"), "the base is read with --config");

        // when: Wharf parses what the chart rendered
        WharfConfig config = ConfigParser.parse(DEFAULTS.wharfConfig(), "rendered");

        // then: the seed's four listeners, with Docker-host upstreams
        assertEquals(ADMIN_PORT, config.admin().port());
        assertEquals(SEED_PORTS, config.listeners().values().stream()
                .collect(Collectors.toMap(ListenerConfig::name, ListenerConfig::port)));
        assertEquals(List.of("172.19.0.56:5432", "172.19.0.57:5432", "172.19.0.58:5432"),
                endpoints(config, "postgres"));
        assertEquals(Balance.FIRST_HEALTHY, config.listeners().get("postgres").upstream().balance());
        assertEquals(List.of("172.19.0.60:6379", "172.19.0.61:6379"), endpoints(config, "redis"));
        assertEquals(List.of("172.19.0.70:9092"), endpoints(config, "kafka"));
        assertEquals(List.of("172.19.0.80:9200"), endpoints(config, "opensearch"));
        assertEquals(List.of("10.244.0.0/16", "192.168.1.0/24"), config.listeners().get("postgres").allow().asStrings());
        assertEquals(List.of("10.244.0.0/16"), config.listeners().get("opensearch").allow().asStrings());
    }

    @Test
    void aListenerCanBeDroppedAndEndpointsMayNameACheckPort(@TempDir Path dir) throws Exception {
        // given: values that remove the kafka listener and give postgres an object endpoint and an IPv6 one
        Path values = Files.writeString(dir.resolve("values.yaml"), """
                listeners:
                  kafka: null
                  postgres:
                    upstream:
                      endpoints: ["172.19.0.56:5432", {address: "172.19.0.57:5432", checkPort: 8008}, "[fd00::1]:5432"]
                """);
        RenderedChart chart = RenderedChart.render(List.of(values));

        // when: Wharf parses what the chart rendered
        WharfConfig config = ConfigParser.parse(chart.wharfConfig(), "rendered");

        // then
        assertEquals(Set.of("postgres", "redis", "opensearch"), config.listeners().keySet());
        assertEquals(List.of("172.19.0.56:5432", "172.19.0.57:5432", "[fd00::1]:5432"), endpoints(config, "postgres"));
        assertEquals(8008, config.listeners().get("postgres").upstream().endpoints().get(1).checkPort());
        assertEquals(Set.of("postgres", "redis", "redis-16380", "redis-16381", "opensearch", "admin"), chart.get(Service.class, RELEASE)
                .getSpec().getPorts().stream().map(ServicePort::getName).collect(Collectors.toSet()));
    }

    @Test
    void postgresFollowsThePatroniLeaderAndTheOtherListenersKeepWharfsHealthDefaults() throws Exception {
        // when: Wharf parses what the default values render
        WharfConfig config = ConfigParser.parse(DEFAULTS.wharfConfig(), "rendered");

        // then: postgres checks Patroni's REST API on 8008 and goes to the one node that answers /primary
        UpstreamConfig postgres = config.listeners().get("postgres").upstream();
        assertEquals(List.of(8008, 8008, 8008), postgres.endpoints().stream().map(Endpoint::checkPort).toList());
        assertEquals(Balance.FIRST_HEALTHY, postgres.balance());
        assertEquals(new HealthCheck(HealthCheck.Type.HTTP, Duration.ofSeconds(1), Duration.ofMillis(500),
                Duration.ofSeconds(1), 1, 1, Duration.ZERO, 0, "GET", "/primary", List.of(200),
                "\"role\"\\s*:\\s*\"(master|primary)\"", HealthCheck.Role.ANY, "", "postgres", null),
                postgres.healthCheck());
        assertEquals(OnUnhealthy.CLOSE_SESSIONS, postgres.onUnhealthy());
        assertEquals(health(referenceUpstream()).subList(2, 5), health(postgres).subList(2, 5), "ejection and DNS");
    }

    @Test
    void healthValuesLeftUnsetAreNotRenderedSoWharfsOwnDefaultsApply() throws Exception {
        // when: Wharf parses what the default values render
        WharfConfig config = ConfigParser.parse(DEFAULTS.wharfConfig(), "rendered");

        // then: listeners without health values get reference.conf's, as if they had been written by hand
        UpstreamConfig reference = referenceUpstream();
        for (String name : List.of("redis", "kafka")) {
            assertEquals(health(reference), health(config.listeners().get(name).upstream()), name);
        }
        assertFalse(DEFAULTS.get(ConfigMap.class, RELEASE + "-base").getData().get("wharf.conf").contains("health"),
                "config.defaults sets no health value");
    }

    @Test
    void everyHealthValueRendersAsWharfParsesItAndListenersInheritKeyByKey(@TempDir Path dir) throws Exception {
        // given: every health value in config.defaults, a listener overriding each of them, and a real password
        // file in a "Secret" mount (Wharf checks that password-file is readable when it parses)
        Path secret = Files.createDirectories(dir.resolve("pg"));
        Path password = Files.writeString(secret.resolve("password"), "s3cret");
        String body = "\"status\"\\s*:\\s*\"(green|yellow)\" <&>";
        Path values = Files.writeString(dir.resolve("values.yaml"), """
                secretMounts:
                  - {name: patroni-health, mountPath: "%s"}
                config:
                  defaults:
                    healthCheck:
                      type: postgres
                      interval: 3s
                      downInterval: 500ms
                      timeout: 2s
                      rise: 3
                      fall: 4
                      jitter: 250ms
                      port: 5433
                      method: HEAD
                      path: /health
                      expectStatus: [200, 204]
                      expectBody: '%s'
                      role: primary
                      user: wharf
                      database: app
                      passwordFile: "%s"
                    onUnhealthy: close-sessions
                    ejectAfter: 0
                    ejectFor: 20s
                    resolveInterval: 1m
                listeners:
                  redis:
                    upstream:
                      healthCheck: {type: redis, role: replica, user: "", passwordFile: "", port: 0, expectStatus: 204}
                      onUnhealthy: keep
                      ejectAfter: 100
                      ejectFor: 1h
                      resolveInterval: 500ms
                """.formatted(secret, body, password));
        RenderedChart chart = RenderedChart.render(List.of(values));

        // when: Wharf parses what the chart rendered
        WharfConfig config = ConfigParser.parse(chart.wharfConfig(), "rendered");

        // then: a listener that sets nothing gets config.defaults whole
        HealthCheck defaults = new HealthCheck(HealthCheck.Type.POSTGRES, Duration.ofSeconds(3), Duration.ofMillis(500),
                Duration.ofSeconds(2), 3, 4, Duration.ofMillis(250), 5433, "HEAD", "/health", List.of(200, 204), body,
                HealthCheck.Role.PRIMARY, "wharf", "app", password.toString());
        UpstreamConfig kafka = config.listeners().get("kafka").upstream();
        assertEquals(defaults, kafka.healthCheck());
        assertEquals(OnUnhealthy.CLOSE_SESSIONS, kafka.onUnhealthy());
        assertEquals(0, kafka.ejectAfter());
        assertEquals(Duration.ofSeconds(20), kafka.ejectFor());
        assertEquals(Duration.ofMinutes(1), kafka.resolveInterval());

        // and: one that overrides some keys keeps the others from config.defaults; 0 and "" count as set
        UpstreamConfig redis = config.listeners().get("redis").upstream();
        assertEquals(new HealthCheck(HealthCheck.Type.REDIS, Duration.ofSeconds(3), Duration.ofMillis(500), Duration.ofSeconds(2), 3, 4,
                Duration.ofMillis(250), 0, "HEAD", "/health", List.of(204), body, HealthCheck.Role.REPLICA, "", "app",
                null), redis.healthCheck());
        assertEquals(OnUnhealthy.KEEP, redis.onUnhealthy());
        assertEquals(100, redis.ejectAfter());
        assertEquals(Duration.ofHours(1), redis.ejectFor());
        assertEquals(Duration.ofMillis(500), redis.resolveInterval());

        // and: postgres's own check (values.yaml) lies over config.defaults, key by key
        HealthCheck postgres = config.listeners().get("postgres").upstream().healthCheck();
        assertEquals(HealthCheck.Type.HTTP, postgres.type());
        assertEquals("/primary", postgres.path());
        assertEquals(Duration.ofMillis(250), postgres.jitter(), "inherited");
        assertEquals(password.toString(), postgres.passwordFile(), "inherited");
    }

    @Test
    void secretMountsBecomeReadOnlySecretVolumesOfTheWharfContainer(@TempDir Path dir) throws Exception {
        // given
        Path values = Files.writeString(dir.resolve("values.yaml"), """
                secretMounts:
                  - {name: patroni-health, mountPath: /etc/wharf-secrets/pg}
                  - {name: redis.auth, mountPath: /var/run/secrets/redis}
                listeners:
                  postgres:
                    upstream:
                      healthCheck: {type: postgres, user: monitor, passwordFile: /etc/wharf-secrets/pg/password}
                  redis:
                    upstream:
                      healthCheck: {type: redis, role: primary, passwordFile: /var/run/secrets/redis/password}
                """);

        // when
        RenderedChart chart = RenderedChart.render(List.of(values));
        PodSpec pod = chart.get(Deployment.class, RELEASE).getSpec().getTemplate().getSpec();
        Container wharf = onlyContainer(pod);

        // then: each Secret is a volume, mounted read-only where its passwordFile points
        Map<String, String> mounted = new TreeMap<>();
        for (VolumeMount mount : wharf.getVolumeMounts()) {
            Volume volume = volume(pod, mount.getName());
            if (volume.getSecret() != null) {
                assertEquals(Boolean.TRUE, mount.getReadOnly(), mount.getMountPath());
                mounted.put(mount.getMountPath(), volume.getSecret().getSecretName());
            }
        }
        assertEquals(Map.of("/etc/wharf-secrets/pg", "patroni-health", "/var/run/secrets/redis", "redis.auth"), mounted);
        assertEquals(pod.getVolumes().size(), pod.getVolumes().stream().map(Volume::getName).distinct().count());
        String listeners = chart.wharfConfig();
        assertTrue(listeners.contains("password-file = \"/etc/wharf-secrets/pg/password\""), listeners);
        assertTrue(listeners.contains("password-file = \"/var/run/secrets/redis/password\""), listeners);

        // and: no Secret volume without secretMounts
        PodSpec defaults = DEFAULTS.get(Deployment.class, RELEASE).getSpec().getTemplate().getSpec();
        assertEquals(List.of("config", "tmp"), defaults.getVolumes().stream().map(Volume::getName).toList());
    }

    @Test
    void aliasServicesCarryTheSeedsNamesAndSelectWharfsPods() {
        Deployment deployment = ALL.get(Deployment.class, RELEASE);
        for (Map.Entry<String, String> alias : ALIASES.entrySet()) {
            Service service = ALL.get(Service.class, alias.getKey());
            assertEquals("ClusterIP", service.getSpec().getType());
            // the listener's own port first (kafka's and redis's broker and node ports follow: ChartProtocolListenersTest)
            ServicePort port = service.getSpec().getPorts().get(0);
            assertEquals(alias.getValue(), port.getName(), alias.getKey());
            int listenerPort = SEED_PORTS.get(alias.getValue());
            assertEquals(listenerPort, port.getPort(), alias.getKey());
            assertEquals(new IntOrString(listenerPort), port.getTargetPort(), alias.getKey());
            assertEquals(deployment.getSpec().getSelector().getMatchLabels(), service.getSpec().getSelector());
            assertSelects(service.getSpec().getSelector(), deployment);
        }
        assertEquals(0, DEFAULTS.find(Service.class, "postgres-external").count(), "off by default");
    }

    @Test
    void loadBalancerKeepsCallerAddressesAndRestrictsSources() {
        Service lb = ALL.get(Service.class, RELEASE + "-lb");
        assertEquals("LoadBalancer", lb.getSpec().getType());
        assertEquals("Local", lb.getSpec().getExternalTrafficPolicy());
        assertEquals(List.of("203.0.113.0/24", "198.51.100.7/32"), lb.getSpec().getLoadBalancerSourceRanges());
        assertEquals(LISTENER_PORTS, lb.getSpec().getPorts().stream()
                .collect(Collectors.toMap(ServicePort::getName, ServicePort::getPort)), "no admin port outside");
        assertEquals("*", lb.getMetadata().getAnnotations().get("service.beta.kubernetes.io/aws-load-balancer-proxy-protocol"));
        assertSelects(lb.getSpec().getSelector(), ALL.get(Deployment.class, RELEASE));
    }

    @Test
    void proxyProtocolOnRendersOptionalHeadersTrustedFromTheLoadBalancerOnly() throws Exception {
        // Wharf's own parser reads what the chart renders with every feature on.
        WharfConfig config = ConfigParser.parse(ALL.wharfConfig(), "rendered");
        assertEquals(SEED_PORTS.keySet(), config.listeners().keySet());
        for (String name : SEED_PORTS.keySet()) {
            ListenerConfig listener = config.listeners().get(name);
            assertEquals(ProxyProtocol.OPTIONAL, listener.proxyProtocol(), name);
            assertEquals(List.of("10.0.0.0/16"), listener.trustedProxies().asStrings(), name);
        }
        assertFalse(DEFAULTS.wharfConfig().contains("proxy-protocol"));
    }

    @Test
    void allFeaturesChecksEveryListenerAndMountsTheChecksSecret() throws Exception {
        WharfConfig config = ConfigParser.parse(ALL.wharfConfig(), "rendered");
        HealthCheck opensearch = config.listeners().get("opensearch").upstream().healthCheck();
        assertEquals(HealthCheck.Type.HTTP, opensearch.type());
        assertEquals("/_cluster/health", opensearch.path());
        assertEquals("\"status\"\\s*:\\s*\"(green|yellow)\"", opensearch.expectBody());
        assertEquals(Duration.ofSeconds(5), opensearch.interval(), "from config.defaults");
        for (String name : List.of("redis", "kafka")) {
            UpstreamConfig upstream = config.listeners().get(name).upstream();
            assertEquals(HealthCheck.Type.TCP, upstream.healthCheck().type(), name);
            assertEquals(Duration.ofMillis(500), upstream.healthCheck().jitter(), name);
            assertEquals(5, upstream.ejectAfter(), name);
            assertEquals(Duration.ofSeconds(30), upstream.ejectFor(), name);
        }
        assertEquals(HealthCheck.Type.HTTP, config.listeners().get("postgres").upstream().healthCheck().type());

        PodSpec pod = ALL.get(Deployment.class, RELEASE).getSpec().getTemplate().getSpec();
        assertEquals("/etc/wharf-secrets/checks", mountOf(pod, onlyContainer(pod), "secret-0").getMountPath());
        assertEquals("wharf-health-checks", volume(pod, "secret-0").getSecret().getSecretName());
    }

    @Test
    void podDisruptionBudgetNetworkPolicyAndServiceMonitorSelectWharf() {
        Deployment deployment = ALL.get(Deployment.class, RELEASE);
        Map<String, String> selector = deployment.getSpec().getSelector().getMatchLabels();

        PodDisruptionBudget pdb = ALL.get(PodDisruptionBudget.class, RELEASE);
        assertEquals(new IntOrString(1), pdb.getSpec().getMaxUnavailable());
        assertEquals(selector, pdb.getSpec().getSelector().getMatchLabels());

        NetworkPolicy policy = ALL.get(NetworkPolicy.class, RELEASE);
        assertEquals(selector, policy.getSpec().getPodSelector().getMatchLabels());
        assertEquals(List.of("Ingress"), policy.getSpec().getPolicyTypes());
        assertEquals(Set.copyOf(LISTENER_PORTS.values()), policy.getSpec().getIngress().get(0).getPorts().stream()
                .map(p -> p.getPort().getIntVal()).collect(Collectors.toSet()));
        assertTrue(policy.getSpec().getIngress().get(0).getFrom().isEmpty(), "listeners: any source, the allow lists decide");
        assertEquals(ADMIN_PORT, policy.getSpec().getIngress().get(1).getPorts().get(0).getPort().getIntVal());
        assertEquals("monitoring", policy.getSpec().getIngress().get(1).getFrom().get(0)
                .getNamespaceSelector().getMatchLabels().get("kubernetes.io/metadata.name"));

        GenericKubernetesResource monitor = ALL.all(GenericKubernetesResource.class)
                .filter(o -> o.getKind().equals("ServiceMonitor")).findFirst().orElseThrow();
        assertEquals("monitoring.coreos.com/v1", monitor.getApiVersion());
        assertEquals("prometheus", monitor.getMetadata().getLabels().get("release"));
        Map<String, Object> endpoint = monitor.<List<Map<String, Object>>>get("spec", "endpoints").get(0);
        assertEquals("admin", endpoint.get("port"));
        assertEquals("/metrics", endpoint.get("path"));
        Map<String, String> monitored = monitor.get("spec", "selector", "matchLabels");
        List<String> scraped = ALL.all(Service.class)
                .filter(s -> s.getMetadata().getLabels().entrySet().containsAll(monitored.entrySet()))
                .map(s -> s.getMetadata().getName()).toList();
        assertEquals(List.of(RELEASE), scraped, "only the Service with the admin port");
    }

    private static void assertSelects(Map<String, String> selector, Deployment deployment) {
        Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
        assertFalse(selector.isEmpty());
        assertTrue(podLabels.entrySet().containsAll(selector.entrySet()), () -> selector + " vs " + podLabels);
    }

    private static Map<String, String> selectorOf(Map<String, String> podLabels) {
        return podLabels.entrySet().stream().filter(e -> e.getKey().startsWith("app.kubernetes.io/"))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    private static Container onlyContainer(PodSpec pod) {
        assertEquals(1, pod.getContainers().size());
        return pod.getContainers().get(0);
    }

    private static EnvVar env(Container container, String name) {
        return container.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no env " + name));
    }

    private static String envValue(Container container, String name) {
        return env(container, name).getValue();
    }

    private static VolumeMount mountOf(PodSpec pod, Container container, String volume) {
        volume(pod, volume);
        return container.getVolumeMounts().stream().filter(m -> m.getName().equals(volume)).findFirst().orElseThrow();
    }

    private static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    /** The upstream Wharf builds when a listener sets nothing but its endpoints: reference.conf's defaults. */
    private static UpstreamConfig referenceUpstream() throws Exception {
        return ConfigParser.parse("wharf.listeners.x { port = 1, upstream.endpoints = [\"h:1\"] }", "reference")
                .listeners().get("x").upstream();
    }

    /** healthCheck, onUnhealthy, ejectAfter, ejectFor, resolveInterval. */
    private static List<Object> health(UpstreamConfig upstream) {
        return List.of(upstream.healthCheck(), upstream.onUnhealthy(), upstream.ejectAfter(), upstream.ejectFor(),
                upstream.resolveInterval());
    }

    private static List<String> endpoints(WharfConfig config, String listener) {
        return config.listeners().get(listener).upstream().endpoints().stream().map(Endpoint::address).toList();
    }
}
