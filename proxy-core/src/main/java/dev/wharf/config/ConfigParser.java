package dev.wharf.config;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.wharf.access.AllowList;
import dev.wharf.access.CidrBlock;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads a {@link WharfConfig} from HOCON, strictly: unknown keys, wrong types and bad values are all
 * errors, every one of them is reported (not only the first), each at its full path such as
 * {@code wharf.listeners.pg.allow[1]}.
 *
 * <p>While walking the tree, a reader that returns {@code null} has reported an error; the partial
 * result is then thrown away in favour of a {@link ConfigException}.
 */
public final class ConfigParser {
    private static final String ROOT = "wharf";
    private static final String REFERENCE_RESOURCE = "reference.conf";
    private static final String DEFAULT_RESOURCE = "dev/wharf/default.conf";

    private static final List<String> ROOT_KEYS = List.of(ROOT);
    private static final List<String> WHARF_KEYS = List.of("admin", "runtime", "kubernetes", "shutdown-delay", "defaults",
            "listeners");
    private static final List<String> KUBERNETES_KEYS = List.of("namespaces");
    private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final List<String> RUNTIME_KEYS = List.of("transport", "event-loops");
    private static final List<String> ADMIN_KEYS = List.of("host", "port");
    private static final List<String> DEFAULTS_KEYS = List.of("host", "connect-timeout", "idle-timeout",
            "drain-timeout", "max-connections", "max-connections-per-source", "allow", "balance", "health-check",
            "on-unhealthy", "eject-after", "eject-for", "resolve-interval", "splice", "proxy-protocol",
            "trusted-proxies", "kafka", "redis-cluster", "http");
    private static final List<String> LISTENER_KEYS = List.of("port", "host", "protocol", "allow",
            "connect-timeout", "idle-timeout", "drain-timeout", "max-connections", "max-connections-per-source",
            "splice", "proxy-protocol", "trusted-proxies", "upstream", "kafka", "redis-cluster", "http");
    private static final List<String> HTTP_KEYS = List.of("host-header", "retry-methods", "authorization-file",
            "response-timeout", "max-initial-line", "max-header-size", "max-headers", "pool-idle-timeout",
            "max-idle-per-endpoint");
    private static final Pattern HOST_HEADER = Pattern.compile("[\\x21-\\x7e]{0,255}");
    private static final int MAX_HTTP_HEAD = 1 << 20;
    private static final List<String> KAFKA_DEFAULT_KEYS = List.of("max-node-id", "metadata-refresh", "release-after",
            "max-frame-size");
    private static final List<String> KAFKA_KEYS = List.of("advertised-host", "broker-port-base", "max-node-id",
            "metadata-refresh", "release-after", "max-frame-size");
    private static final List<String> REDIS_CLUSTER_DEFAULT_KEYS = List.of("release-after", "max-reply-size");
    private static final List<String> REDIS_CLUSTER_KEYS = List.of("advertised-host", "node-ports", "dynamic-ports",
            "release-after", "max-reply-size");
    private static final Pattern PORT_RANGE = Pattern.compile("(\\d{1,5})-(\\d{1,5})");
    /** Kafka's own default socket.request.max.bytes; Fetch responses stay far below it by default. */
    private static final int MAX_FRAME_SIZE = 1 << 30;
    private static final List<String> UPSTREAM_KEYS = List.of("endpoints", "balance", "health-check", "on-unhealthy",
            "eject-after", "eject-for", "resolve-interval");
    private static final List<String> HEALTH_CHECK_KEYS = List.of("type", "interval", "down-interval", "timeout", "rise", "fall",
            "jitter", "port", "method", "path", "expect-status", "expect-body", "role", "user", "database",
            "password-file");
    private static final Pattern HTTP_METHOD = Pattern.compile("[A-Z]{1,16}");
    private static final Pattern HTTP_PATH = Pattern.compile("/[\\x21-\\x7e]{0,1023}");
    private static final Pattern NO_CONTROL_CHARACTERS = Pattern.compile("[^\\x00-\\x1f\\x7f]{0,255}");
    private static final int MAX_CHECK_COUNT = 100;
    private static final HealthCheck UNSET_CHECK = new HealthCheck(null, null, null, null, 0, 0, null, 0, null, null,
            List.of(), null, null, null, null, null);
    private static final List<String> ENDPOINT_KEYS = List.of("address", "check-port");

    private static final Pattern LISTENER_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");
    private static final int MAX_LISTENER_NAME_LENGTH = 63;
    private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z0-9_-]+");
    private static final Pattern PORT_DIGITS = Pattern.compile("\\d{1,5}");
    private static final Set<String> WILDCARD_HOSTS = Set.of("0.0.0.0", "::");
    private static final int MAX_PORT = 65535;
    private static final int UNBOUNDED = Integer.MAX_VALUE;

    private static final String HOST = "an IP address or a host name";
    private static final String HOST_PORT = "host:port, IPv6 as [addr]:port";
    private static final String DURATION = "a duration such as 500ms, 30s, 5m, 1h";

    private final List<ConfigError> errors = new ArrayList<>();
    // Ports already taken, in the order they were claimed: a clash is reported on the later one.
    private final List<Claim> claims = new ArrayList<>();

    private ConfigParser() {
    }

    /**
     * Parses a whole config; what {@code hocon} leaves out comes from this module's reference.conf.
     *
     * @param origin the file name, used in syntax error messages
     * @throws ConfigException with every error found
     */
    public static WharfConfig parse(String hocon, String origin) throws ConfigException {
        Config config = load(hocon, origin);
        ConfigParser parser = new ConfigParser();
        WharfConfig result = parser.wharf(config);
        if (!parser.errors.isEmpty()) {
            throw new ConfigException(parser.errors);
        }
        return result;
    }

    /** Parses a config file (UTF-8; symbolic links are followed). */
    public static WharfConfig parseFile(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file, UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file.toString(), "cannot read: " + reason(e));
        }
        return parse(text, file.toString());
    }

    /** The config Wharf runs with when given none: the classpath resource dev/wharf/default.conf. */
    public static WharfConfig builtInDefault() {
        try (InputStream in = ConfigParser.class.getClassLoader().getResourceAsStream(DEFAULT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(DEFAULT_RESOURCE + " is missing from the classpath");
            }
            return parse(new String(in.readAllBytes(), UTF_8), DEFAULT_RESOURCE);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the built-in " + DEFAULT_RESOURCE, e);
        } catch (ConfigException e) {
            throw new IllegalStateException("the built-in " + DEFAULT_RESOURCE + " is invalid:\n" + e.getMessage(), e);
        }
    }

    private static Config load(String hocon, String origin) throws ConfigException {
        try {
            Config user = ConfigFactory.parseString(hocon, ConfigParseOptions.defaults().setOriginDescription(origin));
            // No system properties or environment: the file alone decides what Wharf does.
            return user.withFallback(reference()).resolve(ConfigResolveOptions.noSystem());
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException(ROOT, e.getMessage());
        }
    }

    private static Config reference() {
        Config all = ConfigFactory.parseResources(ConfigParser.class.getClassLoader(), REFERENCE_RESOURCE);
        // Other libraries' reference.conf files may be on the classpath too; only Wharf's subtree is ours.
        return all.withOnlyPath(ROOT);
    }

    private static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof CharacterCodingException) {
            return "not UTF-8 text";
        }
        return Objects.requireNonNullElse(e.getMessage(), e.getClass().getSimpleName());
    }

    // ---- the tree, top down

    private WharfConfig wharf(Config config) {
        Section root = new Section("", config.root());
        rejectUnknownKeys(root, ROOT_KEYS);
        Section wharf = section(root.preset(ROOT), WHARF_KEYS);
        if (wharf == null) {
            return null;
        }
        AdminConfig admin = admin(wharf.preset("admin"));
        RuntimeConfig runtime = runtime(wharf.preset("runtime"));
        KubernetesConfig kubernetes = kubernetes(wharf.preset("kubernetes"));
        Duration shutdownDelay = nonNegativeDuration(wharf.preset("shutdown-delay"));
        Settings defaults = defaults(wharf.preset("defaults"));
        Map<String, ListenerConfig> listeners = listeners(wharf.preset("listeners"), defaults);
        reportPortClashes();
        return present(admin, runtime, kubernetes, shutdownDelay, listeners)
                ? new WharfConfig(admin, runtime, kubernetes, shutdownDelay, listeners) : null;
    }

    private KubernetesConfig kubernetes(Node node) {
        Section kubernetes = section(node, KUBERNETES_KEYS);
        if (kubernetes == null) {
            return null;
        }
        Node namespacesNode = kubernetes.preset("namespaces");
        List<Node> items = list(namespacesNode, "a list of namespace names such as [\"default\", \"apps\"]");
        if (items == null) {
            return null;
        }
        List<String> namespaces = each(items, this::namespace);
        return namespaces == null ? null : new KubernetesConfig(namespaces);
    }

    private String namespace(Node node) {
        String name = string(node, "a namespace name");
        if (name == null) {
            return null;
        }
        if (!NAMESPACE.matcher(name).matches() || name.length() > MAX_LISTENER_NAME_LENGTH) {
            error(node, node.shown() + " is not a namespace name (expected: lowercase letters, digits and '-',"
                    + " at most 63)");
            return null;
        }
        return name;
    }

    private RuntimeConfig runtime(Node node) {
        Section runtime = section(node, RUNTIME_KEYS);
        if (runtime == null) {
            return null;
        }
        TransportChoice transport = choice(runtime.preset("transport"), "a transport", TransportChoice.values());
        Integer eventLoops = integer(runtime.preset("event-loops"), 0, 1024);
        return present(transport, eventLoops) ? new RuntimeConfig(transport, eventLoops) : null;
    }

    private AdminConfig admin(Node node) {
        Section admin = section(node, ADMIN_KEYS);
        if (admin == null) {
            return null;
        }
        String host = host(admin.preset("host"));
        Integer port = integer(admin.preset("port"), 0, MAX_PORT);
        if (!present(host, port)) {
            return null;
        }
        // Port 0 is an ephemeral port, which cannot clash.
        if (port != 0) {
            claims.add(new Claim("the admin server (" + admin.path("port") + ")", host, port, port, admin.path("port")));
        }
        return new AdminConfig(host, port);
    }

    /** The inheritable settings of {@code wharf.defaults}; a field is null where its value was bad. */
    private record Settings(
            String host,
            Duration connectTimeout,
            Duration idleTimeout,
            Duration drainTimeout,
            Integer maxConnections,
            Integer maxConnectionsPerSource,
            AllowList allow,
            Balance balance,
            HealthCheck healthCheck,
            OnUnhealthy onUnhealthy,
            Integer ejectAfter,
            Duration ejectFor,
            Duration resolveInterval,
            Boolean splice,
            ProxyProtocol proxyProtocol,
            AllowList trustedProxies,
            KafkaSettings kafka,
            RedisClusterSettings redisCluster,
            HttpSettings http) {
        static final Settings NONE = new Settings(null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null);
    }

    private Settings defaults(Node node) {
        Section defaults = section(node, DEFAULTS_KEYS);
        if (defaults == null) {
            return Settings.NONE;
        }
        return new Settings(
                host(defaults.preset("host")),
                positiveDuration(defaults.preset("connect-timeout")),
                positiveDuration(defaults.preset("idle-timeout")),
                nonNegativeDuration(defaults.preset("drain-timeout")),
                integer(defaults.preset("max-connections"), 1, UNBOUNDED),
                integer(defaults.preset("max-connections-per-source"), 0, UNBOUNDED),
                allowList(defaults.preset("allow")),
                balance(defaults.preset("balance")),
                healthCheck(defaults.preset("health-check"), null),
                onUnhealthy(defaults.preset("on-unhealthy")),
                integer(defaults.preset("eject-after"), 0, MAX_CHECK_COUNT),
                positiveDuration(defaults.preset("eject-for")),
                positiveDuration(defaults.preset("resolve-interval")),
                bool(defaults.preset("splice")),
                proxyProtocol(defaults.preset("proxy-protocol")),
                allowList(defaults.preset("trusted-proxies")),
                kafkaDefaults(defaults.preset("kafka")),
                redisClusterDefaults(defaults.preset("redis-cluster")),
                http(defaults.preset("http"), null));
    }

    private Map<String, ListenerConfig> listeners(Node node, Settings defaults) {
        Section listeners = object(node, "listeners by name, such as postgres { port = 15432, ... }");
        if (listeners == null) {
            return null;
        }
        Map<String, ListenerConfig> result = new LinkedHashMap<>();
        for (String name : new TreeSet<>(listeners.keys())) {
            result.put(name, listener(name, listeners.get(name), defaults));
        }
        return result.containsValue(null) ? null : result;
    }

    private ListenerConfig listener(String name, Node node, Settings defaults) {
        boolean validName = listenerName(name, node);
        Section listener = section(node, LISTENER_KEYS);
        if (listener == null) {
            return null;
        }
        Integer port = required(listener, "port", "1-65535", n -> integer(n, 1, MAX_PORT));
        String host = optional(listener, "host", this::host, defaults.host());
        if (present(port, host)) {
            claims.add(new Claim("listener \"" + name + "\"", host, port, port, listener.path("port")));
        }
        Protocol protocol = optional(listener, "protocol", this::protocol, Protocol.TCP);
        AllowList allow = optional(listener, "allow", this::allowList, defaults.allow());
        UpstreamConfig upstream = required(listener, "upstream", "{ endpoints = [\"host:port\", ...] }",
                n -> upstream(n, defaults));
        Duration connectTimeout = optional(listener, "connect-timeout", this::positiveDuration,
                defaults.connectTimeout());
        Duration idleTimeout = optional(listener, "idle-timeout", this::positiveDuration, defaults.idleTimeout());
        Duration drainTimeout = optional(listener, "drain-timeout", this::nonNegativeDuration,
                defaults.drainTimeout());
        Integer maxConnections = optional(listener, "max-connections", n -> integer(n, 1, UNBOUNDED),
                defaults.maxConnections());
        Integer maxConnectionsPerSource = optional(listener, "max-connections-per-source",
                n -> integer(n, 0, UNBOUNDED), defaults.maxConnectionsPerSource());
        Boolean splice = optional(listener, "splice", this::bool, defaults.splice());
        ProxyProtocol proxyProtocol = optional(listener, "proxy-protocol", this::proxyProtocol,
                defaults.proxyProtocol());
        AllowList trustedProxies = optional(listener, "trusted-proxies", this::allowList, defaults.trustedProxies());
        if (proxyProtocol == ProxyProtocol.REQUIRED && trustedProxies != null && trustedProxies.blocks().isEmpty()) {
            // Only a trusted peer may send a header, so nobody could ever connect.
            error(listener.path("trusted-proxies"), "empty, but proxy-protocol = required admits only trusted proxies"
                    + " (expected: the CIDR blocks of the proxies that send PROXY headers, such as [\"10.0.0.5\"])");
            return null;
        }
        KafkaSettings kafka = protocolSection(listener, protocol, Protocol.KAFKA, "kafka",
                "{ advertised-host = \"wharf.default.svc\", broker-port-base = 19100 }",
                n -> kafka(n, defaults.kafka(), name, host));
        RedisClusterSettings redisCluster = protocolSection(listener, protocol, Protocol.REDIS_CLUSTER, "redis-cluster",
                "{ advertised-host = \"wharf.default.svc\", node-ports { \"10.0.0.5:6379\" = 16380 } }",
                n -> redisCluster(n, defaults.redisCluster(), name, host));
        // Optional: an http listener needs nothing beyond wharf.defaults.http.
        HttpSettings http = protocolSection(listener, protocol, Protocol.HTTP, "http", null,
                n -> http(n, defaults.http()));
        if (protocol == Protocol.HTTP && listener.get("http") == null) {
            http = defaults.http();
        }
        boolean protocolOk = protocol == null
                || (protocol != Protocol.KAFKA || kafka != null) && (protocol != Protocol.REDIS_CLUSTER || redisCluster != null)
                && (protocol != Protocol.HTTP || http != null);
        if (!validName || !protocolOk || !present(port, host, protocol, allow, upstream, connectTimeout, idleTimeout,
                drainTimeout, maxConnections, maxConnectionsPerSource, splice, proxyProtocol, trustedProxies)) {
            return null;
        }
        return new ListenerConfig(name, host, port, protocol, allow, upstream, connectTimeout, idleTimeout,
                drainTimeout, maxConnections, maxConnectionsPerSource, splice, proxyProtocol, trustedProxies, kafka,
                redisCluster, http);
    }

    /**
     * A protocol's own section: required with that protocol (optional when {@code example} is null),
     * an error with any other. Null when absent or bad (bad is reported).
     */
    private <T> T protocolSection(Section listener, Protocol protocol, Protocol owner, String key, String example,
                                  Function<Node, T> reader) {
        Node node = listener.get(key);
        if (protocol != owner) {
            if (node != null && protocol != null) {
                error(node, "only for protocol = " + owner.configName() + " (this listener's protocol is "
                        + protocol.configName() + ")");
            }
            return null;
        }
        if (node == null) {
            if (example != null) {
                error(listener.path(key), "missing (expected, with protocol = " + owner.configName() + ": " + example + ")");
            }
            return null;
        }
        return reader.apply(node);
    }

    /**
     * An http section; keys it leaves out come from {@code inherited} (null for wharf.defaults.http
     * itself, which reference.conf fills in whole).
     */
    private HttpSettings http(Node node, HttpSettings inherited) {
        Section http = section(node, HTTP_KEYS);
        if (http == null) {
            return null;
        }
        if (inherited == null) {
            HTTP_KEYS.forEach(http::preset);
            inherited = new HttpSettings(null, List.of(), null, null, 0, 0, 0, null, 0);
        }
        String hostHeader = optional(http, "host-header", n -> matching(n, HOST_HEADER,
                "\"\" to keep the client's Host, or a host[:port] of printable ASCII without spaces"), inherited.hostHeader());
        List<String> retryMethods = optional(http, "retry-methods", this::methods, inherited.retryMethods());
        String authorizationFile = optional(http, "authorization-file", this::readableFile,
                Objects.requireNonNullElse(inherited.authorizationFile(), ""));
        Duration responseTimeout = optional(http, "response-timeout", this::positiveDuration, inherited.responseTimeout());
        Integer maxInitialLine = optional(http, "max-initial-line", n -> size(n, 1024, MAX_HTTP_HEAD),
                inherited.maxInitialLine());
        Integer maxHeaderSize = optional(http, "max-header-size", n -> size(n, 1024, MAX_HTTP_HEAD),
                inherited.maxHeaderSize());
        Integer maxHeaders = optional(http, "max-headers", n -> integer(n, 1, 10_000), inherited.maxHeaders());
        Duration poolIdleTimeout = optional(http, "pool-idle-timeout", this::positiveDuration, inherited.poolIdleTimeout());
        Integer maxIdle = optional(http, "max-idle-per-endpoint", n -> integer(n, 0, 10_000),
                inherited.maxIdlePerEndpoint());
        if (!present(hostHeader, retryMethods, authorizationFile, responseTimeout, maxInitialLine, maxHeaderSize,
                maxHeaders, poolIdleTimeout, maxIdle)) {
            return null;
        }
        return new HttpSettings(hostHeader, retryMethods, authorizationFile.isEmpty() ? null : authorizationFile,
                responseTimeout, maxInitialLine, maxHeaderSize, maxHeaders, poolIdleTimeout, maxIdle);
    }

    private List<String> methods(Node node) {
        List<Node> items = list(node, "a list of HTTP methods such as [\"POST\"]");
        return items == null ? null : each(items, n -> matching(n, HTTP_METHOD, "an HTTP method in upper case, such as POST"));
    }

    private KafkaSettings kafkaDefaults(Node node) {
        Section kafka = section(node, KAFKA_DEFAULT_KEYS);
        if (kafka == null) {
            return null;
        }
        Integer maxNodeId = integer(kafka.preset("max-node-id"), 0, MAX_PORT - 1);
        Duration refresh = positiveDuration(kafka.preset("metadata-refresh"));
        Duration releaseAfter = nonNegativeDuration(kafka.preset("release-after"));
        Integer maxFrameSize = size(kafka.preset("max-frame-size"), 1024, MAX_FRAME_SIZE);
        return present(maxNodeId, refresh, releaseAfter, maxFrameSize)
                ? new KafkaSettings(null, 0, maxNodeId, refresh, releaseAfter, maxFrameSize) : null;
    }

    private KafkaSettings kafka(Node node, KafkaSettings defaults, String listener, String listenerHost) {
        Section kafka = section(node, KAFKA_KEYS);
        if (kafka == null || defaults == null) {
            return null;
        }
        String advertisedHost = required(kafka, "advertised-host", "the host clients reach Wharf by, such as "
                + "\"wharf.default.svc\"", this::host);
        Integer base = required(kafka, "broker-port-base", "1-65535; broker N gets port base + N",
                n -> integer(n, 1, MAX_PORT));
        Integer maxNodeId = optional(kafka, "max-node-id", n -> integer(n, 0, MAX_PORT - 1), defaults.maxNodeId());
        Duration refresh = optional(kafka, "metadata-refresh", this::positiveDuration, defaults.metadataRefresh());
        Duration releaseAfter = optional(kafka, "release-after", this::nonNegativeDuration, defaults.releaseAfter());
        Integer maxFrameSize = optional(kafka, "max-frame-size", n -> size(n, 1024, MAX_FRAME_SIZE),
                defaults.maxFrameSize());
        if (!present(advertisedHost, base, maxNodeId, refresh, releaseAfter, maxFrameSize)) {
            return null;
        }
        if (base + maxNodeId > MAX_PORT) {
            error(kafka.path("broker-port-base"), "broker ports " + base + "-" + (base + maxNodeId) + " go past 65535"
                    + " (expected: broker-port-base + max-node-id <= 65535)");
            return null;
        }
        if (listenerHost != null) {
            claims.add(new Claim("the broker ports of listener \"" + listener + "\" (" + base + "-" + (base + maxNodeId)
                    + ")", listenerHost, base, base + maxNodeId, kafka.path("broker-port-base")));
        }
        return new KafkaSettings(advertisedHost, base, maxNodeId, refresh, releaseAfter, maxFrameSize);
    }

    private RedisClusterSettings redisClusterDefaults(Node node) {
        Section redis = section(node, REDIS_CLUSTER_DEFAULT_KEYS);
        if (redis == null) {
            return null;
        }
        Duration releaseAfter = nonNegativeDuration(redis.preset("release-after"));
        Integer maxReplySize = size(redis.preset("max-reply-size"), 1024, MAX_FRAME_SIZE);
        return present(releaseAfter, maxReplySize)
                ? new RedisClusterSettings(null, Map.of(), null, releaseAfter, maxReplySize) : null;
    }

    private RedisClusterSettings redisCluster(Node node, RedisClusterSettings defaults, String listener,
                                              String listenerHost) {
        Section redis = section(node, REDIS_CLUSTER_KEYS);
        if (redis == null || defaults == null) {
            return null;
        }
        String advertisedHost = required(redis, "advertised-host", "the host clients reach Wharf by, such as "
                + "\"wharf.default.svc\"", this::host);
        Map<Endpoint, Integer> nodePorts = optional(redis, "node-ports", n -> nodePorts(n, listener, listenerHost), Map.of());
        RedisClusterSettings.PortRange dynamicPorts = optional(redis, "dynamic-ports",
                n -> dynamicPorts(n, listener, listenerHost), null);
        Duration releaseAfter = optional(redis, "release-after", this::nonNegativeDuration, defaults.releaseAfter());
        Integer maxReplySize = optional(redis, "max-reply-size", n -> size(n, 1024, MAX_FRAME_SIZE),
                defaults.maxReplySize());
        boolean dynamicOk = redis.get("dynamic-ports") == null || dynamicPorts != null;
        if (!dynamicOk || !present(advertisedHost, nodePorts, releaseAfter, maxReplySize)) {
            return null;
        }
        return new RedisClusterSettings(advertisedHost, nodePorts, dynamicPorts, releaseAfter, maxReplySize);
    }

    private Map<Endpoint, Integer> nodePorts(Node node, String listener, String listenerHost) {
        Section ports = object(node, "upstream node addresses to proxy ports, such as { \"10.0.0.5:6379\" = 16380 }");
        if (ports == null) {
            return null;
        }
        Map<Endpoint, Integer> result = new LinkedHashMap<>();
        boolean ok = true;
        for (String key : new TreeSet<>(ports.keys())) {
            Node entry = ports.get(key);
            Integer port = integer(entry, 1, MAX_PORT);
            Endpoint nodeAddress = null;
            try {
                nodeAddress = parseEndpoint(key);
            } catch (IllegalArgumentException e) {
                error(entry, "the key " + ConfigUtil.quoteString(key) + " is not a node address (expected: host:port as"
                        + " the cluster reports the node, e.g. in CLUSTER NODES)");
            }
            if (port == null || nodeAddress == null) {
                ok = false;
                continue;
            }
            result.put(nodeAddress, port);
            if (listenerHost != null) {
                claims.add(new Claim("node " + nodeAddress.address() + " of listener \"" + listener + "\"", listenerHost,
                        port, port, entry.path()));
            }
        }
        return ok ? result : null;
    }

    private RedisClusterSettings.PortRange dynamicPorts(Node node, String listener, String listenerHost) {
        String text = string(node, "a port range such as \"17000-17099\"");
        if (text == null) {
            return null;
        }
        Matcher m = PORT_RANGE.matcher(text.trim());
        int first = m.matches() ? Integer.parseInt(m.group(1)) : -1;
        int last = m.matches() ? Integer.parseInt(m.group(2)) : -1;
        if (first < 1 || last > MAX_PORT || first > last) {
            error(node, node.shown() + " is not a port range (expected: first-last within 1-65535, such as \"17000-17099\")");
            return null;
        }
        if (listenerHost != null) {
            claims.add(new Claim("the dynamic node ports of listener \"" + listener + "\" (" + text.trim() + ")",
                    listenerHost, first, last, node.path()));
        }
        return new RedisClusterSettings.PortRange(first, last);
    }

    /** A size in bytes: a number, or HOCON's size syntax such as "16MiB". */
    private Integer size(Node node, int min, int max) {
        Long bytes;
        try {
            bytes = node.value().atKey("s").getBytes("s");
        } catch (com.typesafe.config.ConfigException e) {
            error(node, node.shown() + " is not a size (expected: bytes, or a size such as \"16MiB\")");
            return null;
        }
        if (bytes < min || bytes > max) {
            error(node, node.shown() + " (expected: " + min + " bytes to " + (max >> 20) + " MiB)");
            return null;
        }
        return bytes.intValue();
    }

    private boolean listenerName(String name, Node node) {
        if (LISTENER_NAME.matcher(name).matches() && name.length() <= MAX_LISTENER_NAME_LENGTH) {
            return true;
        }
        // The name ends up in metric labels and Kubernetes-facing names, hence the RFC 1123 label rules.
        error(node, ConfigUtil.quoteString(name) + " is not a valid listener name (expected: lowercase letters,"
                + " digits and '-', starting and ending with a letter or digit, at most "
                + MAX_LISTENER_NAME_LENGTH + " characters)");
        return false;
    }

    private UpstreamConfig upstream(Node node, Settings defaults) {
        Section upstream = section(node, UPSTREAM_KEYS);
        if (upstream == null) {
            return null;
        }
        List<Endpoint> endpoints = required(upstream, "endpoints", "at least one host:port", this::endpoints);
        Balance balance = optional(upstream, "balance", this::balance, defaults.balance());
        // A pool's health-check is read over wharf.defaults.health-check, key by key.
        HealthCheck healthCheck = defaults.healthCheck() == null ? null
                : optional(upstream, "health-check", n -> healthCheck(n, defaults.healthCheck()), defaults.healthCheck());
        OnUnhealthy onUnhealthy = optional(upstream, "on-unhealthy", this::onUnhealthy, defaults.onUnhealthy());
        Integer ejectAfter = optional(upstream, "eject-after", n -> integer(n, 0, MAX_CHECK_COUNT),
                defaults.ejectAfter());
        Duration ejectFor = optional(upstream, "eject-for", this::positiveDuration, defaults.ejectFor());
        Duration resolveInterval = optional(upstream, "resolve-interval", this::positiveDuration,
                defaults.resolveInterval());
        return present(endpoints, balance, healthCheck, onUnhealthy, ejectAfter, ejectFor, resolveInterval)
                ? new UpstreamConfig(endpoints, balance, healthCheck, onUnhealthy, ejectAfter, ejectFor, resolveInterval)
                : null;
    }

    /**
     * A health-check section; keys it leaves out come from {@code inherited} (null for
     * wharf.defaults.health-check itself, which reference.conf fills in whole).
     */
    private HealthCheck healthCheck(Node node, HealthCheck inherited) {
        Section check = section(node, HEALTH_CHECK_KEYS);
        if (check == null) {
            return null;
        }
        // reference.conf sets every key of wharf.defaults.health-check, so its fallbacks are never used.
        HealthCheck base = inherited == null ? UNSET_CHECK : inherited;
        HealthCheck.Type type = optional(check, "type", this::checkType, base.type());
        Duration interval = optional(check, "interval", this::positiveDuration, base.interval());
        Duration downInterval = optional(check, "down-interval", this::nonNegativeDuration, base.downInterval());
        Duration timeout = optional(check, "timeout", this::positiveDuration, base.timeout());
        Integer rise = optional(check, "rise", n -> integer(n, 1, MAX_CHECK_COUNT), base.rise());
        Integer fall = optional(check, "fall", n -> integer(n, 1, MAX_CHECK_COUNT), base.fall());
        Duration jitter = optional(check, "jitter", this::nonNegativeDuration, base.jitter());
        Integer port = optional(check, "port", n -> integer(n, 0, MAX_PORT), base.port());
        String method = optional(check, "method", n -> matching(n, HTTP_METHOD, "an HTTP method such as GET"),
                base.method());
        String path = optional(check, "path", n -> matching(n, HTTP_PATH,
                "a path starting with '/', printable ASCII without spaces, at most 1024 characters"), base.path());
        List<Integer> expectStatus = optional(check, "expect-status", this::statusCodes, base.expectStatus());
        String expectBody = optional(check, "expect-body", this::regex, base.expectBody());
        HealthCheck.Role role = optional(check, "role", this::role, base.role());
        String user = optional(check, "user", n -> matching(n, NO_CONTROL_CHARACTERS,
                "a user name without control characters"), base.user());
        String database = optional(check, "database", n -> matching(n, NO_CONTROL_CHARACTERS,
                "a database name without control characters"), base.database());
        String passwordFile = optional(check, "password-file", this::readableFile,
                Objects.requireNonNullElse(base.passwordFile(), ""));
        if (!present(type, interval, downInterval, timeout, rise, fall, jitter, port, method, path, expectStatus, expectBody, role,
                user, database, passwordFile)) {
            return null;
        }
        if (type == HealthCheck.Type.POSTGRES && user.isEmpty()) {
            error(check.path("user"), "empty, but a postgres check logs in (expected: a user name such as \"postgres\")");
            return null;
        }
        return new HealthCheck(type, interval, downInterval, timeout, rise, fall, jitter, port, method, path, expectStatus,
                expectBody, role, user, database, passwordFile.isEmpty() ? null : passwordFile);
    }

    private HealthCheck.Type checkType(Node node) {
        return choice(node, "a health-check type", HealthCheck.Type.values());
    }

    private HealthCheck.Role role(Node node) {
        return choice(node, "a role", HealthCheck.Role.values());
    }

    private OnUnhealthy onUnhealthy(Node node) {
        return choice(node, "an on-unhealthy setting", OnUnhealthy.values());
    }

    /** One status code or a list of them. */
    private List<Integer> statusCodes(Node node) {
        if (node.value().valueType() != ConfigValueType.LIST) {
            Integer code = integer(node, 100, 599);
            return code == null ? null : List.of(code);
        }
        List<Node> items = list(node, "HTTP status codes such as [200, 204]");
        if (items.isEmpty()) {
            error(node, "empty (expected: at least one HTTP status code)");
            return null;
        }
        return each(items, n -> integer(n, 100, 599));
    }

    private String regex(Node node) {
        String text = string(node, "a regular expression, or \"\" for none");
        if (text == null) {
            return null;
        }
        try {
            Pattern.compile(text);
            return text;
        } catch (java.util.regex.PatternSyntaxException e) {
            error(node, node.shown() + " is not a regular expression: " + e.getDescription());
            return null;
        }
    }

    /** A file Wharf can read now, or "" for none. Only its name is kept: the content is a secret. */
    private String readableFile(Node node) {
        String name = string(node, "the path of a file, or \"\" for none");
        if (name == null || name.isEmpty()) {
            return name;
        }
        Path file = Path.of(name);
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            error(node, node.shown() + ": " + (Files.exists(file) ? "not a readable file" : "no such file"));
            return null;
        }
        return name;
    }

    private String matching(Node node, Pattern pattern, String expected) {
        String text = string(node, expected);
        if (text != null && !pattern.matcher(text).matches()) {
            error(node, node.shown() + " (expected: " + expected + ")");
            return null;
        }
        return text;
    }

    private List<Endpoint> endpoints(Node node) {
        List<Node> items = list(node, "a list of \"host:port\" strings or { address, check-port } objects");
        if (items == null) {
            return null;
        }
        if (items.isEmpty()) {
            error(node, "empty (expected: at least one host:port)");
            return null;
        }
        return each(items, this::endpoint);
    }

    private Endpoint endpoint(Node node) {
        return switch (node.value().valueType()) {
            case STRING -> address(node);
            case OBJECT -> endpointObject(node);
            default -> {
                error(node, node.shown() + " is not an endpoint (expected: \"host:port\""
                        + " or { address = \"host:port\", check-port = 8008 })");
                yield null;
            }
        };
    }

    private Endpoint endpointObject(Node node) {
        Section endpoint = section(node, ENDPOINT_KEYS);
        if (endpoint == null) {
            return null;
        }
        Endpoint address = required(endpoint, "address", HOST_PORT, this::address);
        Integer checkPort = optional(endpoint, "check-port", n -> integer(n, 1, MAX_PORT), 0);
        return present(address, checkPort) ? new Endpoint(address.host(), address.port(), checkPort) : null;
    }

    private Endpoint address(Node node) {
        String text = string(node, HOST_PORT);
        if (text == null) {
            return null;
        }
        try {
            return parseEndpoint(text.trim());
        } catch (IllegalArgumentException e) {
            error(node, node.shown() + ": " + e.getMessage());
            return null;
        }
    }

    /** {@code host:port} or {@code [ipv6]:port}, without a check port; range checks are the Endpoint constructor's. */
    private static Endpoint parseEndpoint(String text) {
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("no closing ']' (expected: [addr]:port)");
            }
            if (!text.startsWith(":", close + 1)) {
                throw new IllegalArgumentException("port: missing (expected: [addr]:port)");
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("port: missing (expected: " + HOST_PORT + ")");
            }
            host = text.substring(0, colon);
            if (host.indexOf(':') >= 0) {
                throw new IllegalArgumentException("IPv6 address without brackets (expected: [addr]:port)");
            }
            port = text.substring(colon + 1);
        }
        if (!PORT_DIGITS.matcher(port).matches()) {
            throw new IllegalArgumentException("port: " + ConfigUtil.quoteString(port) + " (expected: 1-65535)");
        }
        return new Endpoint(host, Integer.parseInt(port), 0);
    }

    // ---- leaf values

    private String host(Node node) {
        String host = string(node, HOST);
        if (host != null && host.isBlank()) {
            error(node, "empty (expected: " + HOST + ")");
            return null;
        }
        return host;
    }

    private Protocol protocol(Node node) {
        return choice(node, "a protocol", Protocol.values());
    }

    private ProxyProtocol proxyProtocol(Node node) {
        return choice(node, "a proxy-protocol setting", ProxyProtocol.values());
    }

    private Balance balance(Node node) {
        return choice(node, "a balance", Balance.values());
    }

    private <E extends Enum<E> & ConfigChoice> E choice(Node node, String what, E[] values) {
        String accepted = Arrays.stream(values).map(ConfigChoice::configName).collect(Collectors.joining(", "));
        String text = string(node, "one of " + accepted);
        if (text == null) {
            return null;
        }
        for (E value : values) {
            if (value.configName().equals(text)) {
                return value;
            }
        }
        error(node, node.shown() + " is not " + what + " (expected one of: " + accepted + ")");
        return null;
    }

    private AllowList allowList(Node node) {
        List<Node> items = list(node, "a list of CIDR blocks such as [\"10.244.0.0/16\", \"::1\"]");
        if (items == null) {
            return null;
        }
        List<CidrBlock> blocks = each(items, this::cidrBlock);
        return blocks == null ? null : new AllowList(blocks);
    }

    private CidrBlock cidrBlock(Node node) {
        String text = string(node, "a CIDR block such as \"10.244.0.0/16\"");
        if (text == null) {
            return null;
        }
        try {
            return CidrBlock.parse(text);
        } catch (IllegalArgumentException e) {
            error(node, e.getMessage());
            return null;
        }
    }

    private Duration positiveDuration(Node node) {
        Duration duration = duration(node);
        return duration == null ? null : atLeast(node, duration, !duration.isZero() && !duration.isNegative(), "> 0");
    }

    private Duration nonNegativeDuration(Node node) {
        Duration duration = duration(node);
        return duration == null ? null : atLeast(node, duration, !duration.isNegative(), ">= 0");
    }

    private Duration atLeast(Node node, Duration duration, boolean ok, String expected) {
        if (!ok) {
            error(node, node.shown() + " (expected: " + expected + ")");
            return null;
        }
        return duration;
    }

    private Duration duration(Node node) {
        try {
            // Typesafe's own duration syntax, so that units mean what HOCON users expect.
            return node.value().atKey("d").getDuration("d");
        } catch (com.typesafe.config.ConfigException e) {
            error(node, node.shown() + " is not a duration (expected: " + DURATION + ")");
            return null;
        }
    }

    private Integer integer(Node node, int min, int max) {
        String expected = max == UNBOUNDED ? ">= " + min : min + "-" + max;
        Long value = longValue(node.value());
        if (value == null) {
            error(node, node.shown() + " is not an integer (expected: " + expected + ")");
            return null;
        }
        if (value < min || value > max) {
            error(node, value + " (expected: " + expected + ")");
            return null;
        }
        return value.intValue();
    }

    /** Whole numbers, and strings holding one (as HOCON allows, e.g. from a substitution); else null. */
    private static Long longValue(ConfigValue value) {
        Object raw = value.unwrapped();
        if (raw instanceof Integer || raw instanceof Long) {
            return ((Number) raw).longValue();
        }
        if (raw instanceof String text) {
            try {
                return Long.parseLong(text.trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    private Boolean bool(Node node) {
        Object raw = node.value().unwrapped();
        if (raw instanceof Boolean b) {
            return b;
        }
        if (raw instanceof String text) {
            switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "true", "on", "yes":
                    return true;
                case "false", "off", "no":
                    return false;
                default:
                    break;
            }
        }
        error(node, node.shown() + " is not a boolean (expected: true or false)");
        return null;
    }

    private String string(Node node, String expected) {
        if (node.value().valueType() != ConfigValueType.STRING) {
            error(node, node.shown() + " is not a string (expected: " + expected + ")");
            return null;
        }
        return (String) node.value().unwrapped();
    }

    private List<Node> list(Node node, String expected) {
        if (node.value().valueType() != ConfigValueType.LIST) {
            error(node, node.shown() + " is not a list (expected: " + expected + ")");
            return null;
        }
        ConfigList list = (ConfigList) node.value();
        List<Node> items = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            items.add(new Node(node.path() + "[" + i + "]", list.get(i)));
        }
        return items;
    }

    /** Reads every item, so that each bad one is reported; null if any was bad. */
    private static <T> List<T> each(List<Node> items, Function<Node, T> reader) {
        List<T> result = new ArrayList<>(items.size());
        for (Node item : items) {
            result.add(reader.apply(item));
        }
        return result.contains(null) ? null : result;
    }

    // ---- objects and keys

    private Section object(Node node, String expected) {
        if (node.value().valueType() != ConfigValueType.OBJECT) {
            error(node, node.shown() + " is not an object (expected: " + expected + ")");
            return null;
        }
        return new Section(node.path(), (ConfigObject) node.value());
    }

    private Section section(Node node, List<String> keys) {
        Section section = object(node, "an object with " + String.join(", ", keys));
        if (section != null) {
            rejectUnknownKeys(section, keys);
        }
        return section;
    }

    private void rejectUnknownKeys(Section section, List<String> keys) {
        for (String key : new TreeSet<>(section.keys())) {
            if (!keys.contains(key)) {
                error(section.path(key), "unknown key (expected one of: " + String.join(", ", keys) + ")");
            }
        }
    }

    private <T> T required(Section section, String key, String expected, Function<Node, T> reader) {
        Node node = section.get(key);
        if (node == null) {
            error(section.path(key), "missing (expected: " + expected + ")");
            return null;
        }
        return reader.apply(node);
    }

    private static <T> T optional(Section section, String key, Function<Node, T> reader, T otherwise) {
        Node node = section.get(key);
        return node == null ? otherwise : reader.apply(node);
    }

    // ---- port clashes

    /** Ports {@code first} to {@code last} on {@code host}. */
    private record Claim(String owner, String host, int first, int last, String path) {
        boolean clashesWith(Claim other) {
            int port = Math.max(first, other.first);
            return port <= Math.min(last, other.last) && clash(host, port, other.host, port);
        }
    }

    /** Whether two listeners bound to these hosts and ports would fight over a socket (a wildcard host takes all). */
    public static boolean clash(String host, int port, String otherHost, int otherPort) {
        return port == otherPort
                && (host.equals(otherHost) || WILDCARD_HOSTS.contains(host) || WILDCARD_HOSTS.contains(otherHost));
    }

    private void reportPortClashes() {
        for (int i = 0; i < claims.size(); i++) {
            Claim claim = claims.get(i);
            claims.subList(0, i).stream().filter(claim::clashesWith).findFirst().ifPresent(
                    earlier -> error(claim.path(), (claim.first() == claim.last() ? claim.first() + " is"
                            : claim.first() + "-" + claim.last() + " are") + " already used by " + earlier.owner()));
        }
    }

    // ---- helpers

    private void error(Node node, String message) {
        error(node.path(), message);
    }

    private void error(String path, String message) {
        errors.add(new ConfigError(path, message));
    }

    private static boolean present(Object... values) {
        return Arrays.stream(values).allMatch(Objects::nonNull);
    }

    /** A value and the path a user would write to reach it. */
    private record Node(String path, ConfigValue value) {
        /** The value as written in HOCON: strings quoted, numbers bare. */
        String shown() {
            return value.render(ConfigRenderOptions.concise());
        }
    }

    /** An object whose keys are looked up by name. */
    private record Section(String path, ConfigObject object) {
        Set<String> keys() {
            return object.keySet();
        }

        String path(String key) {
            String rendered = PLAIN_KEY.matcher(key).matches() ? key : ConfigUtil.quoteString(key);
            return path.isEmpty() ? rendered : path + "." + rendered;
        }

        /** The key's value, or null if it is not set. */
        Node get(String key) {
            ConfigValue value = object.get(key);
            return value == null ? null : new Node(path(key), value);
        }

        /** A key reference.conf always sets, so a user can only change its value (even to null). */
        Node preset(String key) {
            Node node = get(key);
            if (node == null) {
                throw new IllegalStateException(REFERENCE_RESOURCE + " does not set " + path(key));
            }
            return node;
        }
    }
}
