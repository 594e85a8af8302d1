package dev.wharf.app;

import dev.wharf.config.ConfigError;
import dev.wharf.config.ConfigException;
import dev.wharf.config.ConfigParser;
import dev.wharf.config.WharfConfig;
import dev.wharf.server.WharfServer;
import dev.wharf.source.FileConfigSource;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/** The {@code wharf} command. */
public final class Main {
    static final String USAGE = """
            Usage: java -jar wharf.jar [--config FILE] | --check FILE | --help

              (no option)     run with the built-in default: listeners on 15432, 16379, 19092 and 19200
                              forwarding to 127.0.0.1:5432, 6379, 9092 and 9200, loopback callers only,
                              admin HTTP on 9901
              --config FILE   run with the HOCON config in FILE, and apply every change made to it
                              (including a mounted ConfigMap's symlink swap)
              --check FILE    validate FILE, print every error with its path; exit 1 on error, 0 if valid
              --help          print this text

            Environment: WHARF_LOG_FORMAT=json logs one JSON object per line.
            """;

    private Main() {
    }

    public static void main(String[] args) {
        String format = System.getenv().getOrDefault("WHARF_LOG_FORMAT", "text");
        if (!format.equals("text") && !format.equals("json")) {
            System.err.println("wharf: WHARF_LOG_FORMAT=" + format + " (expected: text or json)");
            System.exit(2);
        }
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            out.print(USAGE);
            return 0;
        }
        if (args.length == 2 && args[0].equals("--check")) {
            return check(Path.of(args[1]), out, err);
        }
        if (args.length == 2 && args[0].equals("--config")) {
            return serve(Path.of(args[1]), err);
        }
        if (args.length == 0) {
            return serve(null, err);
        }
        err.println("wharf: unexpected arguments: " + String.join(" ", args));
        err.print(USAGE);
        return 2;
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
        CountDownLatch stopped = new CountDownLatch(1);
        FileConfigSource watching = source;
        AtomicBoolean stopping = new AtomicBoolean();
        Runnable stop = () -> {
            if (!stopping.compareAndSet(false, true)) {
                return;
            }
            if (watching != null) {
                watching.close();
            }
            server.shutdownGracefully();
            stopped.countDown();
        };
        Signal.handle(new Signal("TERM"), s -> new Thread(stop, "wharf-shutdown").start());
        Signal.handle(new Signal("INT"), s -> new Thread(stop, "wharf-shutdown").start());
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
