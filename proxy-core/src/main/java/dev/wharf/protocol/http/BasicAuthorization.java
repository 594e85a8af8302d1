package dev.wharf.protocol.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code Authorization: Basic ...} value made from an authorization-file holding
 * {@code user:password}. The file is read again when its modification time changes (a rotated
 * Kubernetes Secret swaps a symlink), looked at no more than once a second. Nothing here logs the
 * content: only the file's name and what went wrong.
 */
final class BasicAuthorization {
    private static final Logger LOG = LoggerFactory.getLogger(BasicAuthorization.class);
    private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Path file;
    // Read and written under this object's lock: sessions on several event loops share one.
    private FileTime readAt;
    private String header;
    private long checkedAt;
    private boolean checked;
    private String lastError;

    BasicAuthorization(String file) {
        this.file = Path.of(file);
    }

    /**
     * The header value, or null when the file has never been readable (the request then fails
     * rather than go upstream without credentials). A file that becomes unreadable keeps the last value.
     */
    synchronized String header() {
        long now = System.nanoTime();
        if (checked && now - checkedAt < RECHECK_NANOS) {
            return header;
        }
        checked = true;
        checkedAt = now;
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            if (!modified.equals(readAt)) {
                String credentials = Files.readString(file, UTF_8).strip();
                if (credentials.indexOf(':') < 0) {
                    throw new IOException("not user:password");
                }
                header = "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(UTF_8));
                readAt = modified;
                lastError = null;
            }
        } catch (IOException | RuntimeException e) {
            String error = e instanceof IOException && e.getMessage() != null && e.getMessage().equals("not user:password")
                    ? "not user:password" : e.getClass().getSimpleName();
            if (!error.equals(lastError)) {
                lastError = error;
                LOG.warn("cannot read authorization-file {}: {}; {}", file, error,
                        header == null ? "requests fail with 502 until it can be read" : "keeping the credentials read before");
            }
        }
        return header;
    }
}
