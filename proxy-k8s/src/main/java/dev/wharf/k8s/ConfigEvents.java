package dev.wharf.k8s;

import dev.wharf.k8s.Fragment.ConfigMapRef;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a Warning Event with reason {@code InvalidConfig} on a ConfigMap whose config was
 * rejected. Events are written by a thread of their own, from a bounded queue, so a slow or
 * unreachable API server never holds up applying config; an Event that cannot be written is
 * logged and dropped.
 */
public final class ConfigEvents implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigEvents.class);
    public static final String REASON = "InvalidConfig";
    public static final String COMPONENT = "wharf";
    /** The API server refuses longer Event messages; keep well inside the limit. */
    static final int MAX_MESSAGE_BYTES = 1024;
    private static final int QUEUE = 256;

    private final KubernetesClient client;
    private final String podName;
    private final ThreadPoolExecutor writer;
    private final AtomicLong sequence = new AtomicLong();

    /**
     * @param podName this pod's name (the {@code POD_NAME} variable), recorded as the reporting
     *     instance; null outside a pod
     */
    public ConfigEvents(KubernetesClient client, String podName) {
        this.client = client;
        this.podName = podName == null || podName.isBlank() ? null : podName;
        this.writer = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(QUEUE), new DefaultThreadFactory("wharf-config-events", true));
    }

    /**
     * Queues an Event on {@code configMap} whose message lists {@code errors}, one
     * {@code key: path: error} line each; returns at once.
     */
    public void invalidConfig(ConfigMapRef configMap, List<String> errors) {
        Event event = event(configMap, message(errors));
        try {
            writer.execute(() -> write(event));
        } catch (RejectedExecutionException e) {
            LOG.warn("InvalidConfig Event for ConfigMap {}/{} dropped: too many Events waiting to be written",
                    configMap.namespace(), configMap.name());
        }
    }

    private void write(Event event) {
        try {
            client.v1().events().inNamespace(event.getMetadata().getNamespace()).resource(event).create();
        } catch (RuntimeException e) {
            LOG.warn("cannot write the InvalidConfig Event on ConfigMap {}/{}: {}",
                    event.getInvolvedObject().getNamespace(), event.getInvolvedObject().getName(), e.toString());
        }
    }

    Event event(ConfigMapRef cm, String message) {
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        // Names like kubectl's: the object's name and a suffix unique to this process.
        String name = cm.name() + "." + Long.toHexString(System.currentTimeMillis()) + Long.toHexString(sequence.incrementAndGet());
        return new EventBuilder()
                .withNewMetadata().withName(name).withNamespace(cm.namespace()).endMetadata()
                .withType("Warning")
                .withReason(REASON)
                .withMessage(message)
                .withNewInvolvedObject()
                    .withApiVersion("v1").withKind("ConfigMap")
                    .withNamespace(cm.namespace()).withName(cm.name())
                    .withUid(cm.uid()).withResourceVersion(cm.resourceVersion())
                .endInvolvedObject()
                .withNewSource().withComponent(COMPONENT).endSource()
                .withReportingComponent(COMPONENT)
                .withReportingInstance(podName)
                .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                .build();
    }

    /**
     * The lines, cut at a line boundary to fit the API's limit, with a note saying how many were
     * left out.
     */
    static String message(List<String> errors) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < errors.size(); i++) {
            String line = (i == 0 ? "" : "\n") + errors.get(i);
            int left = errors.size() - i;
            String note = "\n... " + left + " more error(s), see the wharf log";
            if (bytes(text + line) + (left > 1 ? bytes(note) : 0) > MAX_MESSAGE_BYTES) {
                if (text.isEmpty()) {
                    // A single huge error: cut the line itself.
                    String cut = truncate(line, MAX_MESSAGE_BYTES - bytes(note) - 3) + "...";
                    return left > 1 ? cut + "\n... " + (left - 1) + " more error(s), see the wharf log" : cut;
                }
                return text + note;
            }
            text.append(line);
        }
        return text.toString();
    }

    private static int bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static String truncate(String s, int maxBytes) {
        int end = Math.min(s.length(), maxBytes);
        while (bytes(s.substring(0, end)) > maxBytes) {
            end--;
        }
        return s.substring(0, end);
    }

    @Override
    public void close() {
        writer.shutdown();
        try {
            writer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writer.shutdownNow();
    }
}
