package dev.wharf.protocol.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.wharf.source.FileConfigSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code Authorization: Basic ...} value made from an authorization-file holding
 * {@code user:password}. The file is read when the listener's config names it and again whenever
 * its content changes (a rotated Kubernetes Secret swaps a symlink), by the file watcher's own
 * thread: requests only read a volatile, never the file. Nothing here logs the content.
 */
final class BasicAuthorization implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BasicAuthorization.class);

    private final Path file;
    private final FileConfigSource watch;
    private volatile String header;

    /** Reads the file now (call it off the event loops) and watches it from then on. */
    BasicAuthorization(String file) {
        this.file = Path.of(file);
        try {
            changed(Files.readAllBytes(this.file));
        } catch (IOException e) {
            LOG.warn("cannot read authorization-file {}: {}; requests fail with 502 until it can be read", file,
                    e.getClass().getSimpleName());
        }
        this.watch = FileConfigSource.watch(this.file, this::changed);
    }

    /**
     * The header value, or null when the file has never been readable (the request then fails
     * rather than go upstream without credentials). A file that becomes unreadable or malformed
     * keeps the last value.
     */
    String header() {
        return header;
    }

    private void changed(byte[] content) {
        String credentials = new String(content, UTF_8).strip();
        if (credentials.indexOf(':') < 0) {
            LOG.warn("authorization-file {} does not hold user:password; {}", file,
                    header == null ? "requests fail with 502 until it does" : "keeping the credentials read before");
            return;
        }
        header = "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(UTF_8));
    }

    @Override
    public void close() {
        watch.close();
    }
}
