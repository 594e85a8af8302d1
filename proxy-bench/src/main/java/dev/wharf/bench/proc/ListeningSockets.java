package dev.wharf.bench.proc;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Which processes listen on a TCP port, from /proc/net/tcp{,6} and /proc/PID/fd. */
final class ListeningSockets {
    private static final String LISTEN = "0A";

    private ListeningSockets() {
    }

    /** Whether one of {@code pids} holds a socket listening on {@code port} (any local address). */
    static boolean ownedBy(int port, Collection<Long> pids) throws IOException {
        Set<String> inodes = listeningInodes(port);
        if (inodes.isEmpty()) {
            return false;
        }
        for (long pid : pids) {
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
                for (Path fd : fds) {
                    String target;
                    try {
                        target = Files.readSymbolicLink(fd).toString();
                    } catch (IOException closedMeanwhile) {
                        continue;
                    }
                    if (target.startsWith("socket:[") && inodes.contains(target.substring(8, target.length() - 1))) {
                        return true;
                    }
                }
            } catch (IOException exited) {
                // The process (a forked child) went away while we looked: not the owner.
            }
        }
        return false;
    }

    /** Inodes of the sockets in LISTEN state on {@code port}. */
    private static Set<String> listeningInodes(int port) throws IOException {
        String hexPort = String.format(":%04X", port);
        Set<String> inodes = new HashSet<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path file = Path.of(table);
            if (!Files.exists(file)) {
                continue;
            }
            // Columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
            for (String line : Files.readAllLines(file)) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[1].endsWith(hexPort) && f[3].equals(LISTEN)) {
                    inodes.add(f[9]);
                }
            }
        }
        return inodes;
    }
}
