package dev.wharf.chart;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code helm lint --strict}: warnings fail too. */
class ChartLintTest {

    @Test
    void strictLintPassesWithDefaultValues() {
        LintResult result = new Helm(RenderedChart.CHART).lint().strict().call();
        assertFalse(result.isFailed(), () -> String.join("\n", result.getMessages()));
        assertNoWarnings(result);
    }

    @Test
    void strictLintPassesWithEveryFeatureOn(@TempDir Path dir) {
        Path chart = RenderedChart.chartWithValues(dir, RenderedChart.ALL_FEATURES);
        LintResult result = new Helm(chart).lint().strict().call();
        assertFalse(result.isFailed(), () -> String.join("\n", result.getMessages()));
        assertNoWarnings(result);
    }

    @Test
    void lintFailsOnValuesTheSchemaRejects(@TempDir Path dir) throws IOException {
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "admin:\n  port: 70000\n");
        LintResult result = new Helm(RenderedChart.chartWithValues(dir, bad)).lint().strict().call();
        assertTrue(result.isFailed());
        assertTrue(String.join("\n", result.getMessages()).contains("/admin/port"), () -> String.join("\n", result.getMessages()));
    }

    private static void assertNoWarnings(LintResult result) {
        for (String message : result.getMessages()) {
            assertTrue(message.startsWith("[INFO]"), () -> "lint said: " + message);
        }
    }
}
