package dev.wharf.app;

import dev.wharf.config.ConfigError;
import dev.wharf.config.ConfigException;
import dev.wharf.config.ConfigParser;
import dev.wharf.config.WharfConfig;
import dev.wharf.server.WharfServer;
import dev.wharf.source.FileConfigSource;
import dev.wharf.k8s.ConfigEvents;
import dev.wharf.k8s.ConfigMapSource;
import dev.wharf.k8s.Fragment;
import dev.wharf.k8s.Fragments;
import dev.wharf.k8s.Namespaces;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/** The {@code wharf} command. */
public final class Main {
    static final String USAGE = """
            Usage: java -jar wharf.jar [--config FILE] [--kubernetes [--namespace NS]... | --no-kubernetes]
                   java -jar wharf.jar --check FILE | --help

              (no option)       run with the built-in default: listeners on 15432, 16379, 19092 and 19200
                                forwarding to 127.0.0.1:5432, 6379, 9092 and 9200, loopback callers only,
                                admin HTTP on 9901
              --config FILE     run with the HOCON config in FILE, and apply every change made to it
                                (including a mounted ConfigMap's symlink swap)
              --kubernetes      also take config from the ConfigMaps labelled wharf.dev/config=true: each
                                key ending in .conf is a fragment under wharf, merged after FILE by
                                namespace, name and key. On by default when KUBERNETES_SERVICE_HOST is set
              --namespace NS    a namespace to watch (repeat, or NS1,NS2); default: the pod's own, from
                                the service-account file or POD_NAMESPACE
              --no-kubernetes   do not watch ConfigMaps, even in a cluster
              --check FILE      validate FILE, print every error with its path; exit 1 on error, 0 if valid
              --help            print this text

            Environment: WHARF_LOG_FORMAT=json logs one JSON object per line. POD_NAME, when set, is
            recorded on the Events written for rejected ConfigMaps.
            """;

    private Main() {
    }

    public static void main(String[] args) {
        // Upstream names are re-resolved every resolve-interval; the JVM's own 30 s cache on top of
        // that would keep a restarted Docker host's old address for up to 30 s more. Read once, so set first.
        java.security.Security.setProperty("networkaddress.cache.ttl", "0");
        String format = System.getenv().getOrDefault("WHARF_LOG_FORMAT", "text");
        if (!format.equals("text") && !format.equals("json")) {
            System.err.println("wharf: WHARF_LOG_FORMAT=" + format + " (expected: text or json)");
            System.exit(2);
        }
        System.exit(run(args, System.getenv(), System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, System.getenv(), out, err);
    }

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            out.print(USAGE);
            return 0;
        }
        if (args.length == 2 && args[0].equals("--check")) {
            return check(Path.of(args[1]), out, err);
        }
        Options options;
        try {
            options = Options.parse(args, env);
        } catch (IllegalArgumentException e) {
            err.println("wharf: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        return options.kubernetes()
                ? serveKubernetes(options, env, err)
                : serve(options.config(), err);
    }

    /** The options of a run (not --check or --help). */
    record Options(Path config, boolean kubernetes, List<String> namespaces) {
        static Options parse(String[] args, Map<String, String> env) {
            Path config = null;
            Boolean kubernetes = null;
            List<String> namespaces = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                boolean hasValue = i + 1 < args.length;
                if (arg.equals("--config") && hasValue && config == null) {
                    config = Path.of(args[++i]);
                } else if (arg.equals("--namespace") && hasValue) {
                    namespaces.add(args[++i]);
                } else if (arg.startsWith("--namespace=")) {
                    namespaces.add(arg.substring("--namespace=".length()));
                } else if (arg.equals("--kubernetes") && kubernetes != Boolean.FALSE) {
                    kubernetes = true;
                } else if (arg.equals("--no-kubernetes") && kubernetes != Boolean.TRUE) {
                    kubernetes = false;
                } else {
                    throw new IllegalArgumentException("unexpected arguments: " + String.join(" ", args));
                }
            }
            boolean inCluster = !env.getOrDefault("KUBERNETES_SERVICE_HOST", "").isBlank();
            boolean on = kubernetes == null ? inCluster : kubernetes;
            if (!on && !namespaces.isEmpty()) {
                throw new IllegalArgumentException("--namespace needs --kubernetes (on by default only where"
                        + " KUBERNETES_SERVICE_HOST is set)");
            }
            return new Options(config, on, List.copyOf(namespaces));
        }
    }

    private static int check(Path file, PrintStream out, PrintStream err) {
        try {
            WharfConfig config = ConfigParser.parseFile(file);
            out.println(file + ": valid, " + config.listeners().size() + " listener(s): "
                    + String.join(", ", config.listeners().keySet()));
            return 0;
        } catch (ConfigException e) {
            printErrors(file.toString(), e, err);
            return 1;
        }
    }

    private static void printErrors(String origin, ConfigException e, PrintStream err) {
        err.println(origin + ": " + e.errors().size() + " error(s)");
        for (ConfigError error : e.errors()) {
            err.println("  " + error);
        }
    }

    private static int serve(Path file, PrintStream err) {
        Logger log = LoggerFactory.getLogger(Main.class);
        String origin = file == null ? "built-in default" : file.toString();
        WharfConfig config;
        try {
            config = file == null ? ConfigParser.builtInDefault() : ConfigParser.parseFile(file);
        } catch (ConfigException e) {
            printErrors(origin, e, err);
            return 1;
        }
        WharfServer server = new WharfServer();
        try {
            server.start(config, origin);
        } catch (ConfigException e) {
            printErrors(origin, e, err);
            server.close();
            return 1;
        }
        FileConfigSource source = null;
        if (file != null) {
            try {
                source = FileConfigSource.watch(file, server);
            } catch (IOException e) {
                log.error("cannot watch {}: changes to it will not be applied", file, e);
            }
        }
        FileConfigSource watching = source;
        awaitSignal(() -> {
            if (watching != null) {
                watching.close();
            }
            server.shutdownGracefully();
        });
        return 0;
    }

    /**
     * Runs with ConfigMaps: the server starts with the base file's admin and runtime settings and
     * no listener, not ready; the first list of ConfigMaps brings the listeners and readiness.
     */
    private static int serveKubernetes(Options options, Map<String, String> env, PrintStream err) {
        Logger log = LoggerFactory.getLogger(Main.class);
        Path file = options.config();
        WharfConfig base;
        String origin = file == null ? "reference.conf" : file.toString();
        try {
            String text = file == null ? "" : Files.readString(file, StandardCharsets.UTF_8);
            base = Fragments.merge(List.of(Fragment.ofFile(origin, text)));
        } catch (IOException e) {
            err.println(origin + ": cannot read: " + e);
            return 1;
        } catch (Fragments.MergeException e) {
            printErrors(origin, e.asConfigException(), err);
            return 1;
        }
        List<String> namespaces;
        try {
            namespaces = Namespaces.resolve(options.namespaces(), base.kubernetes().namespaces(),
                    Namespaces.SERVICE_ACCOUNT_NAMESPACE, env);
        } catch (IllegalArgumentException e) {
            err.println("wharf: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        WharfServer server = new WharfServer();
        try {
            server.start(new WharfConfig(base.admin(), base.runtime(), base.kubernetes(), base.shutdownDelay(), Map.of()),
                    "startup, waiting for ConfigMaps", false);
        } catch (ConfigException e) {
            printErrors(origin, e, err);
            server.close();
            return 1;
        }
        KubernetesClient client = ConfigMapSource.newClient(Config.autoConfigure(null));
        log.info("Kubernetes API server {}", client.getMasterUrl());
        ConfigEvents events = new ConfigEvents(client, env.get("POD_NAME"));
        ConfigMapSource source = ConfigMapSource.start(client, namespaces, file, server, events);
        awaitSignal(() -> {
            source.close();
            events.close();
            server.shutdownGracefully();
            client.close();
        });
        return 0;
    }

    /** Blocks until SIGTERM or SIGINT has run {@code stop} (once). */
    private static void awaitSignal(Runnable stop) {
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        Runnable once = () -> {
            if (stopping.compareAndSet(false, true)) {
                stop.run();
                stopped.countDown();
            }
        };
        Signal.handle(new Signal("TERM"), s -> new Thread(once, "wharf-shutdown").start());
        Signal.handle(new Signal("INT"), s -> new Thread(once, "wharf-shutdown").start());
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
