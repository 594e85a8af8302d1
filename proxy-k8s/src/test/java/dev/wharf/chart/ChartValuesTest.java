package dev.wharf.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad values fail the render with a message that names them: the schema for types, validateValues for relations. */
class ChartValuesTest {
    @TempDir
    Path dir;

    @Test
    void schemaRejectsAWrongType() throws IOException {
        String message = renderFails("replicaCount: two\n");
        assertContains(message, "at '/replicaCount': got string, want integer");
    }

    @Test
    void schemaRejectsAnUnknownKeyAtTheTopAndInsideAListener() throws IOException {
        String message = renderFails("""
                replicas: 3
                listeners:
                  postgres:
                    upstreams: ["10.0.0.1:5432"]
                """);
        assertContains(message, "additional properties 'replicas' not allowed");
        assertContains(message, "at '/listeners/postgres': additional properties 'upstreams' not allowed");
    }

    @Test
    void schemaRejectsNegativeAndOutOfRangePorts() throws IOException {
        String message = renderFails("""
                admin:
                  port: -1
                listeners:
                  redis:
                    port: 65536
                """);
        assertContains(message, "at '/admin/port': minimum: got -1, want 1");
        assertContains(message, "at '/listeners/redis/port': maximum: got 65,536, want 65,535");
    }

    @Test
    void schemaRejectsABadListenerNameAndAWritableRootFilesystem() throws IOException {
        String message = renderFails("""
                listeners:
                  Postgres_2:
                    port: 15433
                    upstream: {endpoints: ["10.0.0.1:5432"]}
                securityContext:
                  readOnlyRootFilesystem: false
                """);
        assertContains(message, "Postgres_2");
        assertContains(message, "at '/securityContext/readOnlyRootFilesystem'");
    }

    @Test
    void validateValuesReportsEveryProblemAtOnce() throws IOException {
        String message = renderFails("""
                terminationGracePeriodSeconds: 10
                listeners:
                  postgres:
                    port: 16379
                externalServices:
                  enabled: true
                  services:
                    mysql-external: mysql
                loadBalancer:
                  enabled: true
                  listeners: [postgres, mongo]
                  proxyProtocol: true
                """);
        assertContains(message, "6 problem(s) in the values:");
        assertContains(message, "terminationGracePeriodSeconds: 10 (expected: >= 45 = lifecycle.preStopSleepSeconds 5"
                + " + config.shutdownDelaySeconds 5 + the longest drain timeout 30 + 5 to exit)");
        assertContains(message, "listeners.redis.port: 16379 is already used by listeners.postgres.port");
        assertContains(message, "externalServices.services.mysql-external: listener \"mysql\" does not exist"
                + " (expected one of: kafka, opensearch, postgres, redis)");
        assertContains(message, "loadBalancer.sourceRanges: empty");
        assertContains(message, "loadBalancer.listeners[1]: listener \"mongo\" does not exist");
        assertContains(message, "loadBalancer.trustedProxies: empty");
    }

    @Test
    void aListenersLongerDrainRaisesTheGracePeriodFloor() throws IOException {
        String message = renderFails("""
                listeners:
                  kafka:
                    drainTimeoutSeconds: 120
                """);
        assertContains(message, "terminationGracePeriodSeconds: 45 (expected: >= 135 =");

        // when the grace period follows, the same drain renders
        Path values = Files.writeString(dir.resolve("ok.yaml"), """
                terminationGracePeriodSeconds: 135
                listeners:
                  kafka:
                    drainTimeoutSeconds: 120
                """);
        RenderedChart chart = RenderedChart.render(List.of(values));
        assertEquals(135, chart.get(Deployment.class, RenderedChart.RELEASE)
                .getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds());
        assertTrue(chart.wharfConfig().contains("drain-timeout = 120s"));
    }

    @Test
    void aPortClashWithTheAdminPortIsReported() throws IOException {
        String message = renderFails("admin:\n  port: 19200\n");
        assertContains(message, "listeners.opensearch.port: 19200 is already used by admin.port");
    }

    @Test
    void schemaRejectsEveryBadHealthValueOfAListener() throws IOException {
        String message = renderFails("""
                listeners:
                  postgres:
                    upstream:
                      healthCheck:
                        type: grpc
                        interval: 0s
                        timeout: 1sec
                        rise: 0
                        fall: 101
                        jitter: "-1s"
                        port: 70000
                        method: get
                        path: primary
                        expectStatus: 99
                        role: master
                        user: "a\\tb"
                        database: "db\\n"
                        passwordFile: relative/password
                        expect-body: green
                      onUnhealthy: drain
                      ejectAfter: 101
                      ejectFor: 0s
                      resolveInterval: 10
                """);
        String at = "at '/listeners/postgres/upstream/";
        assertContains(message, at + "healthCheck/type': value must be one of 'none', 'tcp', 'http', 'redis', 'postgres'");
        assertContains(message, at + "healthCheck/interval': '0s' does not match pattern");
        assertContains(message, at + "healthCheck/timeout': '1sec' does not match pattern");
        assertContains(message, at + "healthCheck/rise': minimum: got 0, want 1");
        assertContains(message, at + "healthCheck/fall': maximum: got 101, want 100");
        assertContains(message, at + "healthCheck/jitter': '-1s' does not match pattern");
        assertContains(message, at + "healthCheck/port': maximum: got 70,000, want 65,535");
        assertContains(message, at + "healthCheck/method': 'get' does not match pattern");
        assertContains(message, at + "healthCheck/path': 'primary' does not match pattern");
        assertContains(message, at + "healthCheck/expectStatus': minimum: got 99, want 100");
        assertContains(message, at + "healthCheck/role': value must be one of 'any', 'primary', 'replica'");
        assertContains(message, at + "healthCheck/user': 'a\\tb' does not match pattern");
        assertContains(message, at + "healthCheck/database': 'db\\n' does not match pattern");
        assertContains(message, at + "healthCheck/passwordFile': 'relative/password' does not match pattern");
        assertContains(message, at + "healthCheck': additional properties 'expect-body' not allowed");
        assertContains(message, at + "onUnhealthy': value must be one of 'keep', 'close-sessions'");
        assertContains(message, at + "ejectAfter': maximum: got 101, want 100");
        assertContains(message, at + "ejectFor': '0s' does not match pattern");
        assertContains(message, at + "resolveInterval': got number, want string");
    }

    @Test
    void schemaRejectsBadHealthDefaultsAndBadSecretMounts() throws IOException {
        String message = renderFails("""
                config:
                  defaults:
                    healthCheck: {expectStatus: [], path: "/a b", rise: 1.5}
                    onUnhealthy: close
                    ejectAfter: -1
                    ejectFor: 10
                    resolveInterval: 1x
                listeners:
                  redis:
                    upstream:
                      healthCheck: {expectStatus: [200, 600]}
                secretMounts:
                  - {name: Patroni_Health, mountPath: relative}
                  - {name: ok, mountPath: /etc/wharf-secrets/}
                  - {secretName: x, mountPath: /a}
                """);
        assertContains(message, "at '/config/defaults/healthCheck/expectStatus': minItems: got 0, want 1");
        assertContains(message, "at '/config/defaults/healthCheck/path': '/a b' does not match pattern");
        assertContains(message, "at '/config/defaults/healthCheck/rise': got number, want integer");
        assertContains(message, "at '/config/defaults/onUnhealthy': value must be one of 'keep', 'close-sessions'");
        assertContains(message, "at '/config/defaults/ejectAfter': minimum: got -1, want 0");
        assertContains(message, "at '/config/defaults/ejectFor': got number, want string");
        assertContains(message, "at '/config/defaults/resolveInterval': '1x' does not match pattern");
        assertContains(message, "at '/listeners/redis/upstream/healthCheck/expectStatus/1': maximum: got 600, want 599");
        assertContains(message, "at '/secretMounts/0/name': 'Patroni_Health' does not match pattern");
        assertContains(message, "at '/secretMounts/0/mountPath': 'relative' does not match pattern");
        assertContains(message, "at '/secretMounts/1/mountPath': '/etc/wharf-secrets/' does not match pattern");
        assertContains(message, "at '/secretMounts/2': missing property 'name'");
        assertContains(message, "at '/secretMounts/2': additional properties 'secretName' not allowed");
    }

    @Test
    void aPasswordFileOutsideTheSecretMountsFailsTheRenderNamingItsListener() throws IOException {
        String message = renderFails("""
                secretMounts:
                  - {name: patroni-health, mountPath: /etc/wharf-secrets/pg}
                config:
                  defaults:
                    healthCheck: {passwordFile: /etc/wharf-secrets/pg/password}
                listeners:
                  postgres:
                    upstream:
                      healthCheck: {type: postgres, user: monitor, passwordFile: /etc/wharf-secrets/other/password}
                  redis:
                    upstream:
                      healthCheck: {type: redis, passwordFile: /etc/wharf-secrets/pg/sub/password}
                  kafka:
                    upstream:
                      healthCheck: {passwordFile: /etc/wharf-secrets/pg/../pg/password}
                """);
        assertContains(message, "3 problem(s) in the values:");
        String expected = " is not a key of a mounted Secret (expected: <mountPath>/<key> of a secretMounts entry;"
                + " mounted at: /etc/wharf-secrets/pg)";
        assertContains(message, "listeners.postgres.upstream.healthCheck.passwordFile:"
                + " \"/etc/wharf-secrets/other/password\"" + expected);
        assertContains(message, "listeners.redis.upstream.healthCheck.passwordFile:"
                + " \"/etc/wharf-secrets/pg/sub/password\"" + expected);
        assertContains(message, "listeners.kafka.upstream.healthCheck.passwordFile:"
                + " \"/etc/wharf-secrets/pg/../pg/password\"" + expected);

        // and: with nothing mounted, config.defaults is held to the same rule
        message = renderFails("""
                config:
                  defaults:
                    healthCheck: {type: redis, passwordFile: /etc/wharf-secrets/redis/password}
                """);
        assertContains(message, "config.defaults.healthCheck.passwordFile: \"/etc/wharf-secrets/redis/password\""
                + " is not a key of a mounted Secret (expected: <mountPath>/<key> of a secretMounts entry;"
                + " no Secret is mounted)");
    }

    @Test
    void secretMountsMayNotTakeTheChartsOwnPathsOrEachOthers() throws IOException {
        String message = renderFails("""
                secretMounts:
                  - {name: patroni-health, mountPath: /etc/wharf-secrets/pg}
                  - {name: config, mountPath: /etc/wharf}
                  - {name: again, mountPath: /etc/wharf-secrets/pg}
                  - {name: dotted, mountPath: /etc/wharf-secrets/../x}
                  - {name: tmp, mountPath: /tmp}
                  - {name: nested, mountPath: /etc/wharf/secrets}
                """);
        assertContains(message, "5 problem(s) in the values:");
        assertContains(message, "secretMounts[1].mountPath: /etc/wharf is already used by the config volume"
                + " (expected: a directory of its own, such as /etc/wharf-secrets/pg)");
        assertContains(message, "secretMounts[2].mountPath: /etc/wharf-secrets/pg is already used by secretMounts[0]");
        assertContains(message, "secretMounts[3].mountPath: \"/etc/wharf-secrets/../x\""
                + " (expected: an absolute path without . or .. segments)");
        assertContains(message, "secretMounts[4].mountPath: /tmp is already used by the tmp volume");
        // A mount point inside the read-only ConfigMap volume could not be created there.
        assertContains(message, "secretMounts[5].mountPath: /etc/wharf/secrets is inside the read-only"
                + " config volume (expected: a directory of its own, such as /etc/wharf-secrets/pg)");
    }

    @Test
    void aPostgresCheckNeedsAUserHereOrInTheDefaults() throws IOException {
        String message = renderFails("""
                config:
                  defaults:
                    healthCheck: {type: postgres}
                listeners:
                  postgres:
                    upstream:
                      healthCheck: {type: http, path: /primary}
                  redis:
                    upstream:
                      healthCheck: {type: postgres}
                """);
        assertContains(message, "2 problem(s) in the values:");
        assertContains(message, "config.defaults.healthCheck.user: empty, but a postgres check logs in"
                + " (expected: a user name such as \"postgres\")");
        assertContains(message, "listeners.redis.upstream.healthCheck.user: empty, but a postgres check logs in"
                + " (expected: a user name such as \"postgres\", here or in config.defaults.healthCheck.user)");

        // when the user is in config.defaults, a listener's postgres check inherits it
        Path values = Files.writeString(dir.resolve("ok.yaml"), """
                config:
                  defaults:
                    healthCheck: {user: monitor}
                listeners:
                  redis:
                    upstream:
                      healthCheck: {type: postgres}
                """);
        assertTrue(RenderedChart.render(List.of(values)).wharfConfig().contains("type = \"postgres\""));
    }

    @Test
    void schemaRejectsBadProtocolValues() throws IOException {
        String message = renderFails("""
                listeners:
                  kafka:
                    kafka:
                      brokerIds: [1, 1, -1]
                      brokerPortBase: 0
                      advertised-host: x
                      advertisedHost: "wharf gateway"
                      metadataRefresh: 0s
                      maxFrameSize: 16MB/s
                  redis:
                    redisCluster:
                      nodePorts: {"172.19.0.62": 16382, "172.19.0.63:6379": 70000}
                      dynamicPorts: 17000..17099
                      releaseAfter: "-1s"
                      maxReplySize: 512
                  opensearch:
                    protocol: https
                """);
        String kafka = "at '/listeners/kafka/kafka";
        assertContains(message, kafka + "/brokerIds': items at 0 and 1 are equal");
        assertContains(message, kafka + "/brokerIds/2': minimum: got -1, want 0");
        assertContains(message, kafka + "/brokerPortBase': minimum: got 0, want 1");
        assertContains(message, kafka + "': additional properties 'advertised-host' not allowed");
        assertContains(message, kafka + "/advertisedHost': 'wharf gateway' does not match pattern");
        assertContains(message, kafka + "/metadataRefresh': '0s' does not match pattern");
        assertContains(message, kafka + "/maxFrameSize'");
        String redis = "at '/listeners/redis/redisCluster";
        // the validator reports a bad key at '', under the map it belongs to
        assertContains(message, "invalid propertyName '172.19.0.62'");
        assertContains(message, redis + "/nodePorts/172.19.0.63:6379': maximum: got 70,000, want 65,535");
        assertContains(message, redis + "/dynamicPorts': '17000..17099' does not match pattern");
        assertContains(message, redis + "/releaseAfter': '-1s' does not match pattern");
        assertContains(message, redis + "/maxReplySize'");
        assertContains(message, "at '/listeners/opensearch/protocol': value must be one of 'tcp', 'http', 'kafka', 'redis-cluster'");
    }

    @Test
    void aProtocolListenerNeedsItsSectionAndNoOtherProtocols() throws IOException {
        String message = renderFails("""
                listeners:
                  kafka:
                    kafka: null
                  redis:
                    redisCluster: null
                  postgres:
                    kafka: {brokerPortBase: 25000, brokerIds: [1]}
                """);
        assertContains(message, "3 problem(s) in the values:");
        assertContains(message, "listeners.kafka.kafka: missing (expected, with protocol kafka:"
                + " {brokerPortBase: 19100, brokerIds: [1, 2, 3]})");
        assertContains(message, "listeners.redis.redisCluster: missing (expected, with protocol redis-cluster:"
                + " {nodePorts: {\"172.19.0.60:6379\": 16380, ...}})");
        assertContains(message, "listeners.postgres.kafka: set, but only protocol kafka reads it"
                + " (expected: protocol: kafka, or no kafka; this listener's protocol is tcp)");
    }

    @Test
    void kafkaNeedsBrokerIdsAndAPortBaseAndEveryBrokerIdWithinMaxNodeId() throws IOException {
        String message = renderFails("""
                listeners:
                  kafka:
                    kafka:
                      brokerPortBase: null
                      brokerIds: []
                  kafka-b:
                    port: 29092
                    protocol: kafka
                    upstream: {endpoints: ["172.19.0.71:9092"]}
                    kafka: {brokerPortBase: 29100, maxNodeId: 9, brokerIds: [1, 10, 9]}
                  kafka-c:
                    port: 39092
                    protocol: kafka
                    upstream: {endpoints: ["172.19.0.72:9092"]}
                    kafka: {brokerPortBase: 65500, brokerIds: [1], maxFrameSize: 2GiB}
                """);
        assertContains(message, "5 problem(s) in the values:");
        assertContains(message, "listeners.kafka.kafka.brokerPortBase: missing (expected: 1-65535; broker N gets port"
                + " brokerPortBase + N)");
        assertContains(message, "listeners.kafka.kafka.brokerIds: empty (expected: the node id of every broker, such as"
                + " [1, 2, 3]: the Services and the pods expose brokerPortBase + id for each)");
        assertContains(message, "listeners.kafka-b.kafka.brokerIds[1]: 10 (expected: <= maxNodeId 9; Wharf leaves a"
                + " broker with a higher id at its own address, which clients cannot reach)");
        assertContains(message, "listeners.kafka-c.kafka.brokerPortBase: 65500 + maxNodeId 99 = 65599 (expected:"
                + " <= 65535; Wharf reserves a port for every node id up to maxNodeId)");
        assertContains(message, "listeners.kafka-c.kafka.maxFrameSize: \"2GiB\" is 2147483648 bytes (expected: 1 KiB"
                + " to 1 GiB, such as \"16MiB\")");
    }

    @Test
    void redisClusterNeedsNodePortsAndDynamicPortsOnlyOnOneReplica() throws IOException {
        String message = renderFails("""
                listeners:
                  redis:
                    redisCluster:
                      nodePorts: null
                      maxReplySize: 512B
                  redis-b:
                    port: 26379
                    protocol: redis-cluster
                    upstream: {endpoints: ["172.19.0.65:6379"]}
                    redisCluster:
                      nodePorts: {"172.19.0.65:6379": 26380}
                      dynamicPorts: "27000-27009"
                  redis-c:
                    port: 36379
                    protocol: redis-cluster
                    upstream: {endpoints: ["172.19.0.66:6379"]}
                    redisCluster:
                      dynamicPorts: "37009-37000"
                """);
        assertContains(message, "4 problem(s) in the values:");
        assertContains(message, "listeners.redis.redisCluster.nodePorts: empty (expected: every node as the cluster"
                + " reports it, to its proxy port, such as {\"172.19.0.60:6379\": 16380})");
        assertContains(message, "listeners.redis.redisCluster.maxReplySize: \"512B\" is 512 bytes (expected: 1 KiB"
                + " to 1 GiB, such as \"16MiB\")");
        assertContains(message, "listeners.redis-b.redisCluster.dynamicPorts: \"27000-27009\" with replicaCount 2"
                + " (expected: no dynamicPorts, or replicaCount 1: each replica gives out dynamic ports in the order it"
                + " meets nodes, so through the Service a client would reach another replica where its port means"
                + " another node or none; list every node in nodePorts instead)");
        assertContains(message, "listeners.redis-c.redisCluster.dynamicPorts: \"37009-37000\" (expected: first-last"
                + " with 1 <= first <= last <= 65535, such as \"17000-17009\")");
    }

    @Test
    void brokerAndNodePortsClashWithNoOtherPort() throws IOException {
        String message = renderFails("""
                admin:
                  port: 19150
                listeners:
                  opensearch:
                    port: 19105
                  redis:
                    redisCluster:
                      nodePorts:
                        "172.19.0.60:6379": 16380
                        "172.19.0.61:6379": 16380
                        "172.19.0.62:6379": 15432
                        "172.19.0.63:6379": 19101
                  kafka-b:
                    port: 29092
                    protocol: kafka
                    upstream: {endpoints: ["172.19.0.71:9092"]}
                    kafka: {brokerPortBase: 19190, maxNodeId: 20, brokerIds: [0]}
                """);
        assertContains(message, "6 problem(s) in the values:");
        String range = "listeners.kafka.kafka.brokerPortBase: the broker ports 19100-19199 (brokerPortBase + 0 to"
                + " maxNodeId) include ";
        assertContains(message, range + "19150, already used by admin.port (expected: ports of their own)");
        assertContains(message, range + "19105, already used by listeners.opensearch.port (expected: ports of their own)");
        assertContains(message, "listeners.kafka-b.kafka.brokerPortBase: the broker ports 19190-19210 (brokerPortBase + 0"
                + " to maxNodeId) include 19190, already used by the broker ports 19100-19199 (brokerPortBase + 0 to"
                + " maxNodeId) of listeners.kafka.kafka.brokerPortBase (expected: ports of their own)");
        String nodes = "listeners.redis.redisCluster.nodePorts";
        assertContains(message, nodes + "[\"172.19.0.61:6379\"]: 16380 is already used by " + nodes
                + "[\"172.19.0.60:6379\"] (expected: a port of its own)");
        assertContains(message, nodes + "[\"172.19.0.62:6379\"]: 15432 is already used by listeners.postgres.port");
        assertContains(message, nodes + "[\"172.19.0.63:6379\"]: 19101 is already used by the broker ports"
                + " 19100-19199 (brokerPortBase + 0 to maxNodeId) of listeners.kafka.kafka.brokerPortBase");
    }

    @Test
    void aDynamicRangeClashesLikeAnyOtherPorts() throws IOException {
        String message = renderFails("""
                replicaCount: 1
                listeners:
                  redis:
                    redisCluster:
                      dynamicPorts: "16370-16380"
                """);
        assertContains(message, "2 problem(s) in the values:");
        assertContains(message, "listeners.redis.redisCluster.dynamicPorts: the dynamic ports 16370-16380 include"
                + " 16379, already used by listeners.redis.port (expected: ports of their own)");
        assertContains(message, "listeners.redis.redisCluster.dynamicPorts: the dynamic ports 16370-16380 include"
                + " 16380, already used by listeners.redis.redisCluster.nodePorts[\"172.19.0.60:6379\"]");
    }

    @Test
    void aProtocolListenerOnTheLoadBalancerMustNameItsAdvertisedHost() throws IOException {
        String message = renderFails("""
                loadBalancer:
                  enabled: true
                  sourceRanges: ["203.0.113.0/24"]
                """);
        assertContains(message, "2 problem(s) in the values:");
        assertContains(message, "listeners.kafka.kafka.advertisedHost: empty, so clients are told wharf.gateway.svc,"
                + " which callers of the LoadBalancer (loadBalancer.listeners has kafka) cannot resolve (expected: a DNS"
                + " name that resolves to the load balancer, off the cluster and in it)");
        assertContains(message, "listeners.redis.redisCluster.advertisedHost: empty, so clients are told"
                + " wharf.gateway.svc, which callers of the LoadBalancer (loadBalancer.listeners has redis)");

        // when the LoadBalancer leaves them out, the Service name will do
        Path values = Files.writeString(dir.resolve("ok.yaml"), """
                loadBalancer:
                  enabled: true
                  sourceRanges: ["203.0.113.0/24"]
                  listeners: [postgres, opensearch]
                """);
        RenderedChart.render(List.of(values));
    }

    @Test
    void brokerAndNodePortNamesMayNotBeListenerNames() throws IOException {
        String message = renderFails("""
                listeners:
                  kafka-19101:
                    port: 29092
                    upstream: {endpoints: ["172.19.0.71:9092"]}
                  admin:
                    port: 29093
                    upstream: {endpoints: ["172.19.0.72:9092"]}
                """);
        assertContains(message, "2 problem(s) in the values:");
        assertContains(message, "listeners.admin: the name of the admin port in the Service (expected: another"
                + " listener name)");
        assertContains(message, "listeners.kafka-19101: also the Service port name of broker 1 of listeners.kafka"
                + " (port 19101) (expected: another listener name)");
    }

    private String renderFails(String values) throws IOException {
        Path file = Files.writeString(Files.createTempFile(dir, "values", ".yaml"), values);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> RenderedChart.render(List.of(file)));
        return e.getMessage();
    }

    private static void assertContains(String message, String expected) {
        assertTrue(message.contains(expected), () -> "expected <" + expected + "> in:\n" + message);
    }
}
