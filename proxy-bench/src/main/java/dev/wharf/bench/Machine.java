package dev.wharf.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** A one-line description of this machine for the report: CPU model, cores, memory, OS. */
final class Machine {
    private Machine() {
    }

    static String describe() {
        String cpu = field(Path.of("/proc/cpuinfo"), "model name").orElse(System.getProperty("os.arch"));
        String memory = field(Path.of("/proc/meminfo"), "MemTotal")
                .map(kb -> String.format("%.0f GiB", Long.parseLong(kb.replaceAll("\\D", "")) / 1024.0 / 1024.0))
                .orElse("? GiB");
        String os = field(Path.of("/etc/os-release"), "PRETTY_NAME").map(s -> s.replace("\"", "")).orElse(System.getProperty("os.name"));
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores, " + memory + ", " + os;
    }

    private static Optional<String> field(Path file, String key) {
        try {
            return Files.readAllLines(file).stream()
                    .filter(l -> l.startsWith(key))
                    .map(l -> l.substring(l.indexOf(l.contains(":") ? ':' : '=') + 1).trim())
                    .findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
