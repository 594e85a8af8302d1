package dev.wharf.k8s;

import dev.wharf.config.ConfigException;
import dev.wharf.config.WharfConfig;
import dev.wharf.k8s.Fragment.ConfigMapRef;
import dev.wharf.k8s.Fragments.FragmentError;
import dev.wharf.k8s.Fragments.MergeException;
import dev.wharf.server.WharfServer;
import dev.wharf.source.FileConfigSource;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link WharfServer} in step with the ConfigMaps labelled {@code wharf.dev/config=true}
 * in the watched namespaces, each {@code *.conf} key a fragment (see {@link Fragments}), after
 * the optional base {@code --config} file.
 *
 * <p>One informer per namespace keeps a cache; its callbacks only raise a flag. A single loop
 * thread waits for {@value #QUIET_MILLIS} ms without changes, reads the caches (not the API),
 * merges, and applies or rejects through the server, so the core's guarantees (touch only what
 * changed, revoke, drain, all or nothing) hold here as for the file source. A rejected update
 * also gets an {@code InvalidConfig} Event on each ConfigMap it concerns.
 *
 * <p>The informers list again by themselves after a lost watch, with backoff, and also when the
 * first list fails: the last good config keeps serving meanwhile. The server becomes ready after
 * the first list and successful apply, and stays ready through later disconnects.
 *
 * <p>The base file is watched like a file source's ({@link FileConfigSource}), but a change to it
 * only triggers a sync, where it is read again and merged first.
 */
public final class ConfigMapSource implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigMapSource.class);
    public static final String LABEL = "wharf.dev/config";
    public static final String LABEL_VALUE = "true";
    static final long QUIET_MILLIS = 250;
    /** A stream of changes never postpones a sync longer than this. */
    private static final long MAX_DELAY_MILLIS = 2000;
    private static final long TICK_MILLIS = 50;

    private final KubernetesClient client;
    private final List<String> namespaces;
    private final Path baseFile;
    private final WharfServer server;
    private final ConfigEvents events;
    private final String source;
    private final Map<String, SharedIndexInformer<ConfigMap>> informers = new LinkedHashMap<>();
    private final ScheduledExecutorService loop;
    private FileConfigSource baseWatch;
    private final AtomicBoolean changed = new AtomicBoolean();
    private volatile long lastChangeNanos;

    // Owned by the loop thread.
    private long firstPendingNanos = -1;
    private List<Fragment> lastAttempt;
    private boolean synced;
    private final Map<String, Boolean> watching = new TreeMap<>();
    private final Set<String> everWatched = new HashSet<>();

    private ConfigMapSource(KubernetesClient client, List<String> namespaces, Path baseFile, WharfServer server,
                            ConfigEvents events) {
        this.client = client;
        this.namespaces = List.copyOf(namespaces);
        this.baseFile = baseFile;
        this.server = server;
        this.events = events;
        this.source = "ConfigMaps labelled " + LABEL + "=" + LABEL_VALUE + " in " + String.join(", ", namespaces)
                + (baseFile == null ? "" : ", after " + baseFile);
        this.loop = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("wharf-configmap-sync", true));
    }

    /**
     * Starts watching; returns at once, even if the API server cannot be reached (the informers
     * keep trying). {@code server} must have been started, not ready, with the base file's admin
     * and runtime settings.
     *
     * @param baseFile the {@code --config} file, the first fragment; or null
     */
    public static ConfigMapSource start(KubernetesClient client, List<String> namespaces, Path baseFile,
                                        WharfServer server, ConfigEvents events) {
        if (namespaces.isEmpty()) {
            throw new IllegalArgumentException("no namespace to watch");
        }
        ConfigMapSource s = new ConfigMapSource(client, namespaces, baseFile, server, events);
        if (baseFile != null) {
            s.baseWatch = FileConfigSource.watch(baseFile, contents -> s.changed());
        }
        s.startInformers();
        s.loop.scheduleWithFixedDelay(s::tick, 0, TICK_MILLIS, TimeUnit.MILLISECONDS);
        return s;
    }

    /**
     * A client for the source: {@code config} (auto-configured in a pod) with timeouts short
     * enough that a hung API server shows as an error, and is retried, rather than a stall.
     */
    public static KubernetesClient newClient(Config config) {
        Config bounded = new ConfigBuilder(config).withConnectionTimeout(5_000).withRequestTimeout(10_000).build();
        return new KubernetesClientBuilder().withConfig(bounded).build();
    }

    private void startInformers() {
        ResourceEventHandler<ConfigMap> signal = new ResourceEventHandler<>() {
            @Override
            public void onAdd(ConfigMap obj) {
                changed();
            }

            @Override
            public void onUpdate(ConfigMap oldObj, ConfigMap newObj) {
                changed();
            }

            @Override
            public void onDelete(ConfigMap obj, boolean deletedFinalStateUnknown) {
                changed();
            }
        };
        for (String namespace : namespaces) {
            SharedIndexInformer<ConfigMap> informer = client.configMaps().inNamespace(namespace)
                    .withLabel(LABEL, LABEL_VALUE).runnableInformer(0);
            informer.addEventHandler(signal);
            informer.exceptionHandler((started, t) -> {
                // Logged once per failed attempt; the informer retries with backoff, for ever.
                LOG.warn("ConfigMaps in {}: {} failed ({}); the config in force keeps serving, retrying",
                        namespace, started ? "watch" : "first list", reason(t));
                return true;
            });
            informers.put(namespace, informer);
            watching.put(namespace, false);
            informer.start();
            LOG.info("watching ConfigMaps labelled {}={} in namespace {}", LABEL, LABEL_VALUE, namespace);
        }
    }

    /** The innermost cause, which says what went wrong (refused, timed out, 403...). */
    private static String reason(Throwable t) {
        Throwable cause = t;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause == t ? t.toString() : t.getClass().getSimpleName() + ": " + cause;
    }

    private void changed() {
        lastChangeNanos = System.nanoTime();
        changed.set(true);
    }

    /** The loop: note connectivity, and sync once things are quiet. */
    private void tick() {
        try {
            logConnectivity();
            long now = System.nanoTime();
            if (!informers.values().stream().allMatch(SharedIndexInformer::hasSynced)) {
                return;
            }
            if (!synced) {
                // The first sync goes at once: an empty namespace sends no event to wait for.
                synced = true;
                changed.set(false);
                sync();
                return;
            }
            if (!changed.get()) {
                firstPendingNanos = -1;
                return;
            }
            if (firstPendingNanos < 0) {
                firstPendingNanos = now;
            }
            boolean quiet = now - lastChangeNanos >= TimeUnit.MILLISECONDS.toNanos(QUIET_MILLIS);
            boolean overdue = now - firstPendingNanos >= TimeUnit.MILLISECONDS.toNanos(MAX_DELAY_MILLIS);
            if (quiet || overdue) {
                changed.set(false);
                firstPendingNanos = -1;
                sync();
            }
        } catch (RuntimeException e) {
            LOG.error("ConfigMap sync failed; the config in force keeps serving", e);
        }
    }

    private void logConnectivity() {
        informers.forEach((namespace, informer) -> {
            boolean now = informer.isWatching();
            Boolean before = watching.put(namespace, now);
            if (before != null && before != now) {
                if (now && !everWatched.add(namespace)) {
                    LOG.info("ConfigMaps in {}: watching again (listed again after reconnecting)", namespace);
                } else if (now) {
                    LOG.info("ConfigMaps in {}: listed and watching", namespace);
                } else {
                    LOG.warn("ConfigMaps in {}: lost the watch on the API server; the config in force keeps "
                            + "serving, reconnecting", namespace);
                }
            }
        });
    }

    private String readBase() {
        try {
            return Files.readString(baseFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }

    /** Builds the merged config from the caches and puts it in force, or rejects it whole. */
    private void sync() {
        List<Fragment> fragments = new ArrayList<>();
        if (baseFile != null) {
            String text = readBase();
            if (text == null) {
                // The watch syncs again once the file can be read.
                LOG.warn("cannot read {}; the config in force keeps serving", baseFile);
                return;
            }
            fragments.add(Fragment.ofFile(baseFile.toString(), text));
        }
        fragments.addAll(configMapFragments());
        if (Fragments.sameInputs(fragments, lastAttempt)) {
            // A re-list after a reconnect, or a change to a key that is not a fragment.
            return;
        }
        lastAttempt = fragments;
        WharfConfig config;
        try {
            config = Fragments.merge(fragments);
        } catch (MergeException e) {
            reject(e.errors(), e.asConfigException());
            return;
        }
        try {
            server.apply(config, source);
            server.markReady();
        } catch (ConfigException e) {
            List<FragmentError> traced = Fragments.attribute(fragments, e.errors());
            reject(traced, new ConfigException(traced.stream().map(FragmentError::located).toList()));
        }
    }

    private List<Fragment> configMapFragments() {
        List<ConfigMap> all = new ArrayList<>();
        informers.values().forEach(i -> all.addAll(i.getStore().list()));
        return fragmentsOf(all);
    }

    /** Every {@code *.conf} key of {@code configMaps}, by namespace, then name, then key. */
    static List<Fragment> fragmentsOf(Collection<ConfigMap> configMaps) {
        List<ConfigMap> all = new ArrayList<>(configMaps);
        all.sort(Comparator.comparing((ConfigMap c) -> c.getMetadata().getNamespace())
                .thenComparing(c -> c.getMetadata().getName()));
        List<Fragment> fragments = new ArrayList<>();
        for (ConfigMap cm : all) {
            ObjectMeta meta = cm.getMetadata();
            ConfigMapRef ref = new ConfigMapRef(meta.getNamespace(), meta.getName(), meta.getUid(),
                    meta.getResourceVersion());
            Map<String, String> data = cm.getData() == null ? Map.of() : new TreeMap<>(cm.getData());
            data.forEach((key, text) -> {
                if (key.endsWith(".conf")) {
                    fragments.add(Fragment.ofConfigMap(ref, key, text == null ? "" : text));
                }
            });
        }
        return fragments;
    }

    /** Logs and counts the rejection, and queues one Event per ConfigMap concerned. */
    private void reject(List<FragmentError> errors, ConfigException all) {
        server.reject(source, all);
        Map<ConfigMapRef, List<String>> byConfigMap = new LinkedHashMap<>();
        for (FragmentError e : errors) {
            for (Fragment f : e.fragments()) {
                if (f.owner() != null) {
                    String key = f.origin().substring(f.origin().lastIndexOf(':') + 1);
                    byConfigMap.computeIfAbsent(f.owner(), k -> new ArrayList<>()).add(key + ": " + e.error());
                }
            }
        }
        byConfigMap.forEach(events::invalidConfig);
    }

    @Override
    public void close() {
        if (baseWatch != null) {
            baseWatch.close();
        }
        loop.shutdownNow();
        informers.values().forEach(SharedIndexInformer::close);
    }
}
