package dev.wharf.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.k8s.Fragment.ConfigMapRef;
import io.fabric8.kubernetes.api.model.Event;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigEventsTest {
    private static final ConfigMapRef CM = new ConfigMapRef("apps", "redis-routes", "0d1e-uid", "42");

    @Test
    void theEventNamesTheConfigMapAndWharf() {
        // given
        ConfigEvents events = new ConfigEvents(null, "wharf-0");
        // when
        Event event = events.event(CM, "redis.conf: wharf.listeners.redis.port: 0 (expected: 1-65535)");
        // then
        assertEquals("Warning", event.getType());
        assertEquals("InvalidConfig", event.getReason());
        assertEquals("v1", event.getInvolvedObject().getApiVersion());
        assertEquals("ConfigMap", event.getInvolvedObject().getKind());
        assertEquals("apps", event.getInvolvedObject().getNamespace());
        assertEquals("redis-routes", event.getInvolvedObject().getName());
        assertEquals("0d1e-uid", event.getInvolvedObject().getUid());
        assertEquals("42", event.getInvolvedObject().getResourceVersion());
        assertEquals("wharf", event.getSource().getComponent());
        assertEquals("wharf", event.getReportingComponent());
        assertEquals("wharf-0", event.getReportingInstance());
        assertEquals("apps", event.getMetadata().getNamespace());
        assertTrue(event.getMetadata().getName().startsWith("redis-routes."), event.getMetadata().getName());
        assertNotEquals(event.getMetadata().getName(), events.event(CM, "x").getMetadata().getName());
    }

    @Test
    void aShortListOfErrorsIsTheMessageAsItIs() {
        assertEquals("a.conf: wharf.x: bad\na.conf: wharf.y: worse",
                ConfigEvents.message(List.of("a.conf: wharf.x: bad", "a.conf: wharf.y: worse")));
    }

    @Test
    void aLongListIsCutAtALineWithANoteOfWhatWasLeftOut() {
        // given 100 errors of about 60 bytes
        List<String> errors = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            errors.add("redis.conf: wharf.listeners.l" + i + ".port: 0 (expected: 1-65535)");
        }
        // when
        String message = ConfigEvents.message(errors);
        // then
        assertTrue(message.getBytes(StandardCharsets.UTF_8).length <= ConfigEvents.MAX_MESSAGE_BYTES);
        List<String> lines = message.lines().toList();
        int shown = lines.size() - 1;
        assertEquals(errors.subList(0, shown), lines.subList(0, shown));
        assertEquals("... " + (100 - shown) + " more error(s), see the wharf log", lines.get(shown));
    }

    @Test
    void oneHugeErrorIsCutToo() {
        String message = ConfigEvents.message(List.of("k.conf: wharf: " + "é".repeat(2000)));
        assertTrue(message.getBytes(StandardCharsets.UTF_8).length <= ConfigEvents.MAX_MESSAGE_BYTES);
        assertTrue(message.endsWith("..."), message);
    }
}
