package dev.wharf.chart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The chart under test, rendered with helm-java (embedded Helm) and parsed with fabric8's model classes. */
final class RenderedChart {
    static final Path CHART = Path.of("../charts/wharf");
    static final Path ALL_FEATURES = CHART.resolve("ci/all-features-values.yaml");
    static final String RELEASE = "wharf";
    static final String NAMESPACE = "gateway";
    // lifecycle.preStop.sleep needs 1.30 (Chart.yaml says so); embedded Helm assumes 1.20 otherwise.
    static final String KUBE_VERSION = "1.30.0";

    private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    final List<HasMetadata> objects;

    private RenderedChart(List<HasMetadata> objects) {
        this.objects = objects;
    }

    /** Renders with the chart's values plus these values files and --set pairs (key, value, key, value...). */
    static RenderedChart render(List<Path> valuesFiles, Object... sets) {
        TemplateCommand template = new Helm(CHART).template()
                .withName(RELEASE).withNamespace(NAMESPACE).withKubeVersion(KUBE_VERSION);
        for (Path file : valuesFiles) {
            template = template.withValuesFile(file);
        }
        for (int i = 0; i < sets.length; i += 2) {
            template = template.set((String) sets[i], sets[i + 1]);
        }
        return new RenderedChart(parse(template.call()));
    }

    static RenderedChart defaults() {
        return render(List.of());
    }

    static RenderedChart allFeatures(Object... sets) {
        return render(List.of(ALL_FEATURES), sets);
    }

    /** Every document of a multi-document YAML stream, each parsed into fabric8's class for its kind. */
    static List<HasMetadata> parse(String yaml) {
        List<HasMetadata> objects = new ArrayList<>();
        for (String document : DOCUMENT_SEPARATOR.split(yaml)) {
            boolean onlyComments = document.lines().map(String::strip)
                    .allMatch(line -> line.isEmpty() || line.startsWith("#"));
            if (!onlyComments) {
                objects.add(SERIALIZATION.unmarshal(document, HasMetadata.class));
            }
        }
        return objects;
    }

    <T extends HasMetadata> T get(Class<T> type, String name) {
        return find(type, name).findFirst().orElseThrow(() -> new NoSuchElementException(
                "no " + type.getSimpleName() + " named " + name + " in: " + summary()));
    }

    <T extends HasMetadata> Stream<T> find(Class<T> type, String name) {
        return all(type).filter(o -> o.getMetadata().getName().equals(name));
    }

    <T extends HasMetadata> Stream<T> all(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast);
    }

    List<String> summary() {
        return objects.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList();
    }

    /** The HOCON Wharf would read: the base config file plus the watched fragment, wrapped in wharf { }. */
    String wharfConfig() {
        return wharfConfig(RELEASE);
    }

    /** {@link #wharfConfig()} of a render whose resource names start with {@code fullname}. */
    String wharfConfig(String fullname) {
        String base = get(ConfigMap.class, fullname + "-base").getData().get("wharf.conf");
        String listeners = get(ConfigMap.class, fullname + "-listeners").getData().get("listeners.conf");
        return base + "\nwharf {\n" + listeners + "\n}\n";
    }

    /**
     * A copy of the chart whose values.yaml is the chart's merged with the overrides, for
     * {@code helm lint}, which (in helm-java) takes no values file of its own.
     */
    static Path chartWithValues(Path dir, Path overrides) {
        try {
            Path copy = dir.resolve("wharf");
            try (Stream<Path> files = Files.walk(CHART)) {
                for (Path source : (Iterable<Path>) files::iterator) {
                    Path target = copy.resolve(CHART.relativize(source).toString());
                    if (Files.isDirectory(source)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(source, target);
                    }
                }
            }
            JsonNode values = YAML.readTree(CHART.resolve("values.yaml").toFile());
            merge((ObjectNode) values, YAML.readTree(overrides.toFile()));
            YAML.writeValue(copy.resolve("values.yaml").toFile(), values);
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Helm's merge: maps merge key by key, anything else replaces. */
    private static void merge(ObjectNode into, JsonNode from) {
        for (Map.Entry<String, JsonNode> field : from.properties()) {
            JsonNode existing = into.get(field.getKey());
            if (existing instanceof ObjectNode target && field.getValue().isObject()) {
                merge(target, field.getValue());
            } else {
                into.set(field.getKey(), field.getValue());
            }
        }
    }
}
