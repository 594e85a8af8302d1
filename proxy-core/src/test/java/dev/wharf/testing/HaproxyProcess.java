package dev.wharf.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * HAProxy in the foreground on 127.0.0.1, from a {@code haproxy.cfg} text whose frontend binds
 * {@code 127.0.0.1:%PORT%}; {@link #port()} is that port. Keep {@code maxconn} at or below 4096: above
 * the file-descriptor limit HAProxy refuses to start.
 */
public final class HaproxyProcess extends ChildProcess {

    /** Replaced by the frontend port in the config text. */
    public static final String PORT_PLACEHOLDER = "%PORT%";

    private final String config;

    public HaproxyProcess(String config) {
        super("haproxy");
        if (!config.contains(PORT_PLACEHOLDER)) {
            throw new IllegalArgumentException("haproxy.cfg has no " + PORT_PLACEHOLDER + " (expected: bind 127.0.0.1:"
                    + PORT_PLACEHOLDER + " in the frontend)");
        }
        this.config = config;
    }

    @Override
    protected List<String> command(Path dir, int port) {
        Path cfg = dir.resolve("haproxy.cfg");
        try {
            Files.writeString(cfg, config.replace(PORT_PLACEHOLDER, Integer.toString(port)), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // -db: stay in the foreground, logs to stderr; the child process is HAProxy itself.
        return List.of(findBinary("haproxy", "haproxy", List.of(Path.of("/usr/sbin"))).toString(), "-db", "-f", cfg.toString());
    }

    @Override
    protected void probe() throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(HOST, port()), 1000);
        }
    }
}
