package dev.wharf.it;

import java.util.ArrayList;
import java.util.List;

/** Reads samples out of the Prometheus text format. */
public final class PrometheusText {
    private PrometheusText() {
    }

    /**
     * The value of the sample named {@code name} whose labels include every {@code key, value}
     * pair given; throws if there is none, so a renamed metric fails loudly.
     */
    public static double value(String scrape, String name, String... labels) {
        List<String> wanted = new ArrayList<>();
        for (int i = 0; i < labels.length; i += 2) {
            wanted.add(labels[i] + "=\"" + labels[i + 1] + "\"");
        }
        for (String line : scrape.split("\n")) {
            if (line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            String sampleName = brace >= 0 ? line.substring(0, brace) : line.substring(0, space);
            if (!sampleName.equals(name)) {
                continue;
            }
            String labelText = brace >= 0 ? line.substring(brace, line.lastIndexOf('}') + 1) : "";
            if (wanted.stream().allMatch(l -> labelText.contains(l))) {
                return Double.parseDouble(line.substring(space + 1));
            }
        }
        throw new AssertionError("no sample " + name + wanted + " in /metrics");
    }
}
