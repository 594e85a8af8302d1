package dev.wharf.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code wharf} command line, run in this JVM: what it prints and the status it exits with. */
class MainTest {
    private static final String VALID = """
            wharf {
              listeners {
                pg {
                  port = 25432
                  allow = ["127.0.0.1", "10.0.0.0/8"]
                  upstream.endpoints = ["127.0.0.1:5432"]
                }
                cache {
                  port = 26379
                  upstream.endpoints = ["127.0.0.1:6379"]
                }
              }
            }
            """;

    @TempDir
    Path dir;

    /** What one run printed, and its exit status. */
    private record Run(int status, String out, String err) {
        String describe() {
            return "\n--- status " + status + "\n--- out:\n" + out + "\n--- err:\n" + err;
        }
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = Main.run(args, o, e);
        }
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Run run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = Main.run(args, env, o, e);
        }
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Path file(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private static void assertPrinted(Run run, String expected) {
        assertTrue(run.err().contains(expected), "expected on stderr: " + expected + run.describe());
    }

    @Test
    void helpPrintsTheUsageAndSucceeds() {
        // when
        Run run = run("--help");
        // then
        assertEquals(0, run.status(), run.describe());
        assertTrue(run.out().startsWith("Usage: java -jar wharf.jar"), run.describe());
        assertTrue(run.out().contains("--check FILE"), run.describe());
        assertEquals("", run.err());
    }

    @Test
    void helpDescribesTheKubernetesOptions() {
        Run run = run("--help");
        for (String option : List.of("--kubernetes", "--no-kubernetes", "--namespace NS", "KUBERNETES_SERVICE_HOST",
                "wharf.dev/config=true", "POD_NAMESPACE")) {
            assertTrue(run.out().contains(option), option + run.describe());
        }
    }

    @Test
    void kubernetesIsOnByDefaultInACluster() {
        Map<String, String> cluster = Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1");
        assertTrue(Main.Options.parse(new String[0], cluster).kubernetes());
        assertTrue(Main.Options.parse(new String[] {"--config", "base.conf"}, cluster).kubernetes());
        assertFalse(Main.Options.parse(new String[] {"--no-kubernetes"}, cluster).kubernetes());
        assertFalse(Main.Options.parse(new String[0], Map.of()).kubernetes());
        assertFalse(Main.Options.parse(new String[0], Map.of("KUBERNETES_SERVICE_HOST", "")).kubernetes());
    }

    @Test
    void kubernetesOptionsCombineWithABaseConfigFile() {
        Main.Options options = Main.Options.parse(
                new String[] {"--kubernetes", "--namespace", "apps", "--config", "base.conf", "--namespace=data,infra"},
                Map.of());
        assertTrue(options.kubernetes());
        assertEquals(Path.of("base.conf"), options.config());
        assertEquals(List.of("apps", "data,infra"), options.namespaces());
    }

    @Test
    void kubernetesWithoutANamespaceToWatchFailsAtStartup() {
        // given no --namespace, no POD_NAMESPACE, and no service-account file (not in a pod)
        assertFalse(Files.exists(dev.wharf.k8s.Namespaces.SERVICE_ACCOUNT_NAMESPACE));
        // when
        Run run = run(Map.of(), "--kubernetes");
        // then
        assertEquals(2, run.status(), run.describe());
        assertPrinted(run, "wharf: no namespace to watch: pass --namespace NS, list them in wharf.kubernetes.namespaces, or set"
                + " POD_NAMESPACE");
    }

    @Test
    void aNamespaceWithoutKubernetesIsAnError() {
        Run run = run(Map.of(), "--namespace", "apps");
        assertEquals(2, run.status(), run.describe());
        assertPrinted(run, "wharf: --namespace needs --kubernetes");
    }

    @Test
    void contradictoryOrRepeatedOptionsAreErrors() {
        for (String[] args : List.of(new String[] {"--kubernetes", "--no-kubernetes"},
                new String[] {"--config", "a.conf", "--config", "b.conf"}, new String[] {"--namespace"})) {
            Run run = run(Map.of(), args);
            assertEquals(2, run.status(), String.join(" ", args) + run.describe());
            assertPrinted(run, "wharf: unexpected arguments: " + String.join(" ", args));
        }
    }

    @Test
    void anInvalidBaseFileStopsAKubernetesStart() throws IOException {
        // given
        Path base = file("base.conf", "listeners.redis { port = 99999, upstream.endpoints = [\"127.0.0.1:6379\"] }");
        // when
        Run run = run(Map.of(), "--kubernetes", "--namespace", "apps", "--config", base.toString());
        // then
        assertEquals(1, run.status(), run.describe());
        assertPrinted(run, base + ": 1 error(s)");
        assertPrinted(run, "wharf.listeners.redis.port: 99999 (expected: 1-65535)");
    }

    @Test
    void unknownArgumentsFailWithTheUsageOnStderr() {
        for (String[] args : List.of(new String[] {"--bogus"}, new String[] {"--check"},
                new String[] {"--config", "a.conf", "extra"}, new String[] {"--check", "a.conf", "--help"})) {
            // when
            Run run = run(args);
            // then
            assertEquals(2, run.status(), String.join(" ", args) + run.describe());
            assertTrue(run.err().contains("wharf: unexpected arguments: " + String.join(" ", args)), run.describe());
            assertTrue(run.err().contains("Usage: java -jar wharf.jar"), run.describe());
            assertEquals("", run.out());
        }
    }

    @Test
    void checkOfAValidFileNamesItsListeners() throws IOException {
        // given
        Path valid = file("valid.conf", VALID);
        // when
        Run run = run("--check", valid.toString());
        // then
        assertEquals(0, run.status(), run.describe());
        assertEquals(valid + ": valid, 2 listener(s): cache, pg\n", run.out());
        assertEquals("", run.err());
    }

    @Test
    void checkReportsASyntaxErrorWithItsFileAndLine() throws IOException {
        // given a listener block that is never closed
        Path broken = file("broken.conf", """
                wharf {
                  listeners {
                    pg { port = 25432, upstream.endpoints = ["127.0.0.1:5432"]
                  }
                }
                """);
        // when
        Run run = run("--check", broken.toString());
        // then
        assertEquals(1, run.status(), run.describe());
        assertPrinted(run, broken + ": 1 error(s)");
        assertTrue(run.err().lines().anyMatch(l -> l.startsWith("  wharf: " + broken + ": ")), run.describe());
        assertEquals("", run.out());
    }

    @Test
    void checkReportsAnUnknownKeyAtItsPath() throws IOException {
        // given a misspelt key
        Path conf = file("unknown.conf", VALID.replace("port = 25432", "port = 25432\n      alow = []"));
        // when
        Run run = run("--check", conf.toString());
        // then
        assertEquals(1, run.status(), run.describe());
        assertPrinted(run, conf + ": 1 error(s)");
        assertPrinted(run, "  wharf.listeners.pg.alow: unknown key (expected one of: port, host, protocol, allow,");
        assertEquals("", run.out());
    }

    @Test
    void checkReportsABadCidrAtItsIndex() throws IOException {
        // given a prefix longer than an IPv4 address
        Path conf = file("cidr.conf", VALID.replace("\"10.0.0.0/8\"", "\"10.0.0.0/33\""));
        // when
        Run run = run("--check", conf.toString());
        // then
        assertEquals(1, run.status(), run.describe());
        assertPrinted(run, conf + ": 1 error(s)");
        assertPrinted(run, "  wharf.listeners.pg.allow[1]: \"10.0.0.0/33\"");
        assertEquals("", run.out());
    }

    @Test
    void checkReportsAPortOutOfRangeAtItsPath() throws IOException {
        // given
        Path conf = file("range.conf", VALID.replace("port = 26379", "port = 70000"));
        // when
        Run run = run("--check", conf.toString());
        // then
        assertEquals(1, run.status(), run.describe());
        assertPrinted(run, conf + ": 1 error(s)");
        assertPrinted(run, "  wharf.listeners.cache.port: 70000 (expected: 1-65535)");
        assertEquals("", run.out());
    }

    @Test
    void checkReportsTwoListenersOnOnePort() throws IOException {
        // given two listeners on the same port of the same (default, wildcard) host
        Path conf = file("clash.conf", VALID.replace("port = 26379", "port = 25432"));
        // when
        Run run = run("--check", conf.toString());
        // then the later listener (in name order: pg after cache) is the one reported
        assertEquals(1, run.status(), run.describe());
        assertPrinted(run, conf + ": 1 error(s)");
        assertPrinted(run, "  wharf.listeners.pg.port: 25432 is already used by listener \"cache\"");
        assertEquals("", run.out());
    }

    @Test
    void checkReportsEveryErrorOfAFileAtOnce() throws IOException {
        // given one file with an unknown key, a bad CIDR, a port out of range and a port clash
        Path conf = file("all.conf", """
                wharf {
                  colour = blue
                  listeners {
                    pg {
                      port = 25432
                      allow = ["127.0.0.1", "10.0.0.0/33"]
                      upstream.endpoints = ["127.0.0.1:5432"]
                    }
                    cache {
                      port = 70000
                      upstream.endpoints = ["127.0.0.1:6379"]
                    }
                    kafka {
                      port = 25432
                      upstream.endpoints = ["127.0.0.1:9092"]
                    }
                  }
                }
                """);
        // when
        Run run = run("--check", conf.toString());
        // then every error is printed, each with its path
        assertEquals(1, run.status(), run.describe());
        assertPrinted(run, conf + ": 4 error(s)");
        assertPrinted(run, "  wharf.colour: unknown key");
        assertPrinted(run, "  wharf.listeners.pg.allow[1]: \"10.0.0.0/33\"");
        assertPrinted(run, "  wharf.listeners.cache.port: 70000 (expected: 1-65535)");
        assertPrinted(run, "  wharf.listeners.pg.port: 25432 is already used by listener \"kafka\"");
        assertEquals("", run.out());
    }

    @Test
    void checkOfAMissingFileSaysSo() {
        // given
        Path missing = dir.resolve("nowhere.conf");
        // when
        Run run = run("--check", missing.toString());
        // then
        assertEquals(1, run.status(), run.describe());
        assertPrinted(run, missing + ": cannot read: no such file");
        assertEquals("", run.out());
    }
}
