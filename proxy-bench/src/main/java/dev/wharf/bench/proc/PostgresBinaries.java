package dev.wharf.bench.proc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * PostgreSQL's programs. Debian keeps the server's (initdb, postgres) off PATH in
 * /usr/lib/postgresql/VERSION/bin, and /usr/bin/pgbench is only a wrapper that picks a version by
 * its cluster configuration: the versioned directory, newest first, is looked at first.
 */
public final class PostgresBinaries {
    private PostgresBinaries() {
    }

    /** {@code tool} (initdb, postgres, pg_isready, pgbench), or an error naming {@code debianPackage}. */
    public static Path find(String tool, String debianPackage) {
        return ManagedProcess.findBinary(tool, debianPackage, debianBinDirs());
    }

    private static List<Path> debianBinDirs() {
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            return versions
                    .filter(v -> v.getFileName().toString().matches("\\d+"))
                    .sorted(Comparator.comparingInt((Path v) -> Integer.parseInt(v.getFileName().toString())).reversed())
                    .map(v -> v.resolve("bin"))
                    .toList();
        } catch (IOException noneInstalled) {
            return List.of();
        }
    }
}
