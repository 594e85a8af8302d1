package dev.wharf.chart;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** NOTES.txt prints the commands that fit the Services chosen (a client-only dry-run install renders it). */
class ChartNotesTest {

    @Test
    void clusterIpOnlyPointsAtPortForwardAndTheServiceNames() {
        String notes = notes(null);
        assertTrue(notes.contains("postgres: wharf.gateway.svc:15432"), notes);
        assertTrue(notes.contains("kubectl -n gateway port-forward service/wharf 19092 19200 15432 16379"), notes);
        assertFalse(notes.contains("wharf-lb"), notes);
        assertFalse(notes.contains("postgres-external"), notes);
        assertTrue(notes.contains("  kafka: wharf.gateway.svc:19092\n"
                + "    (kafka: clients then connect to wharf.gateway.svc on 19101, 19102, 19103)\n"), notes);
        assertTrue(notes.contains("(redis-cluster: clients then connect to wharf.gateway.svc on 16380, 16381)"), notes);
    }

    @Test
    void loadBalancerAndAliasesPrintTheirAddressesAndTheTrustedProxies() {
        String notes = notes(RenderedChart.ALL_FEATURES);
        assertTrue(notes.contains("postgres-external:15432"), notes);
        assertTrue(notes.contains("kubectl -n gateway get service wharf-lb --watch"), notes);
        assertTrue(notes.contains("sources: 203.0.113.0/24, 198.51.100.7/32"), notes);
        assertTrue(notes.contains("postgres: $WHARF_LB:15432"), notes);
        assertTrue(notes.contains("Wharf believes the header only from 10.0.0.0/16"), notes);
        assertTrue(notes.contains("(redis-cluster: clients then connect to wharf.example.com on 16380, 16381)"), notes);
        assertFalse(notes.contains("port-forward service/wharf 19092"), notes);
    }

    private static String notes(Path valuesFile) {
        InstallCommand install = new Helm(RenderedChart.CHART).install()
                .withName(RenderedChart.RELEASE).withNamespace(RenderedChart.NAMESPACE)
                .withKubeVersion(RenderedChart.KUBE_VERSION).dryRun().clientOnly();
        if (valuesFile != null) {
            install = install.withValuesFile(valuesFile);
        }
        return install.call().getOutput();
    }
}
