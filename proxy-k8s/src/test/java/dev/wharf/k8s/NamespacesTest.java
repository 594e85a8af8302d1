package dev.wharf.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamespacesTest {
    @TempDir
    Path dir;

    private Path missing() {
        return dir.resolve("no-such-file");
    }

    @Test
    void flagsAreSplitOnCommasSortedAndDeduplicated() {
        assertEquals(List.of("apps", "data", "infra"),
                Namespaces.resolve(List.of("infra,apps", "data", "apps"), List.of(), missing(),
                        Map.of("POD_NAMESPACE", "x")));
    }

    @Test
    void flagsWinOverThePodsOwnNamespace() throws IOException {
        Path file = Files.writeString(dir.resolve("namespace"), "wharf-system");
        assertEquals(List.of("apps"), Namespaces.resolve(List.of("apps"), List.of(), file, Map.of()));
    }

    @Test
    void withoutFlagsTheConfiguredNamespacesWinOverThePodsOwn() throws IOException {
        Path file = Files.writeString(dir.resolve("namespace"), "wharf-system");
        assertEquals(List.of("apps", "data"), Namespaces.resolve(List.of(), List.of("data", "apps"), file, Map.of()));
        assertEquals(List.of("infra"), Namespaces.resolve(List.of("infra"), List.of("data"), file, Map.of()));
    }

    @Test
    void withoutFlagsTheServiceAccountFileNamesIt() throws IOException {
        Path file = Files.writeString(dir.resolve("namespace"), "wharf-system\n");
        assertEquals(List.of("wharf-system"),
                Namespaces.resolve(List.of(), List.of(), file, Map.of("POD_NAMESPACE", "other")));
    }

    @Test
    void withoutTheFileThePodNamespaceVariableNamesIt() {
        assertEquals(List.of("apps"), Namespaces.resolve(List.of(), List.of(), missing(), Map.of("POD_NAMESPACE", "apps")));
    }

    @Test
    void withNeitherItIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Namespaces.resolve(List.of(), List.of(), missing(), Map.of()));
        assertEquals("no namespace to watch: pass --namespace NS, list them in wharf.kubernetes.namespaces, or set"
                + " POD_NAMESPACE (in a pod, " + missing() + " names it)", e.getMessage());
    }

    @Test
    void aNameThatIsNoNamespaceIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Namespaces.resolve(List.of("apps,Bad_Name"), List.of(), missing(), Map.of()));
        assertEquals("--namespace apps,Bad_Name: \"Bad_Name\" is not a namespace name (expected: lowercase letters,"
                + " digits and '-', at most 63, comma-separated)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Namespaces.resolve(List.of("apps,"), List.of(), missing(), Map.of()));
    }
}
