package dev.wharf.source;

import dev.wharf.config.ConfigException;
import dev.wharf.config.ConfigParser;
import dev.wharf.server.WharfServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link WharfServer} in step with a config file, or tells another source that a file it
 * merges has changed ({@link #watch(Path, Consumer)}). It watches the file's directory rather
 * than the file, because a mounted ConfigMap changes by swapping the {@code ..data} symlink in
 * that directory, and editors often replace a file instead of writing it; and it compares
 * contents, so an event that changed nothing applies nothing. A poll every second backs up the
 * watch for file systems that deliver no events.
 */
public final class FileConfigSource implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FileConfigSource.class);
    private static final long POLL_MILLIS = 1000;
    /** Lets a writer finish before the file is read, so half-written files are rarely seen. */
    private static final long SETTLE_MILLIS = 100;

    private final Path file;
    private final Consumer<byte[]> onChange;
    private final Thread thread;
    private volatile boolean running = true;
    private byte[] lastSeen;

    private FileConfigSource(Path file, byte[] seen, Consumer<byte[]> onChange) {
        this.file = file.toAbsolutePath();
        this.onChange = onChange;
        this.lastSeen = seen;
        this.thread = new Thread(this::run, "wharf-config-watch");
        this.thread.setDaemon(true);
    }

    /** Starts watching {@code file}, whose current contents {@code server} already serves. */
    public static FileConfigSource watch(Path file, WharfServer server) throws IOException {
        String origin = file.toAbsolutePath().toString();
        return start(new FileConfigSource(file, Files.readAllBytes(file), now -> {
            try {
                server.apply(ConfigParser.parse(new String(now, StandardCharsets.UTF_8), origin), origin);
            } catch (ConfigException e) {
                server.reject(origin, e);
            }
        }));
    }

    /**
     * Calls {@code onChange}, on the watching thread, with the file's contents each time they
     * change from what they are now (an unreadable file counts as changed once it can be read).
     */
    public static FileConfigSource watch(Path file, Consumer<byte[]> onChange) {
        byte[] now;
        try {
            now = Files.readAllBytes(file);
        } catch (IOException e) {
            now = null;
        }
        return start(new FileConfigSource(file, now, onChange));
    }

    private static FileConfigSource start(FileConfigSource source) {
        source.thread.start();
        return source;
    }

    private void run() {
        try (WatchService watcher = FileSystems.getDefault().newWatchService()) {
            file.getParent().register(watcher, StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
            while (running) {
                WatchKey key = watcher.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (key == null) {
                    checkForChange();
                } else if (concernsTheFile(key)) {
                    Thread.sleep(SETTLE_MILLIS);
                    checkForChange();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            LOG.error("config watch on {} stopped; the config in force keeps serving", file, e);
        }
    }

    /**
     * Whether a batch of events touched the file or the {@code ..data} link it goes through;
     * other files in the directory (logs, say) change often and are no reason to read it.
     */
    private boolean concernsTheFile(WatchKey key) {
        boolean relevant = false;
        for (WatchEvent<?> event : key.pollEvents()) {
            Object name = event.context();
            relevant |= name == null || event.kind() == StandardWatchEventKinds.OVERFLOW
                    || name.toString().equals(file.getFileName().toString()) || name.toString().startsWith("..");
        }
        key.reset();
        return relevant;
    }

    private void checkForChange() {
        byte[] now;
        try {
            now = Files.readAllBytes(file);
        } catch (IOException e) {
            if (lastSeen != null) {
                LOG.warn("cannot read {} ({}); what was read from it before stays in force", file, e.toString());
                lastSeen = null;
            }
            return;
        }
        if (Arrays.equals(now, lastSeen)) {
            return;
        }
        lastSeen = now;
        onChange.accept(now);
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
