package dev.wharf.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.config.WharfConfig;
import dev.wharf.k8s.Fragment.ConfigMapRef;
import dev.wharf.k8s.Fragments.FragmentError;
import dev.wharf.k8s.Fragments.MergeException;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Merging fragments into one config, and tracing each error to the fragment(s) it concerns. */
class FragmentsTest {
    private static final Fragment BASE = Fragment.ofFile("/etc/wharf/base.conf", """
            wharf {
              admin.port = 0
              defaults.allow = ["10.0.0.0/8"]
            }
            """);

    private static Fragment cm(String namespace, String name, String key, String text) {
        return Fragment.ofConfigMap(new ConfigMapRef(namespace, name, "uid-" + name, "1"), key, text);
    }

    private static String listener(String name, int port) {
        return "listeners." + name + " { port = " + port + ", upstream.endpoints = [\"127.0.0.1:6379\"] }\n";
    }

    private static MergeException rejected(Fragment... fragments) {
        return assertThrows(MergeException.class, () -> Fragments.merge(List.of(fragments)));
    }

    private static List<String> origins(FragmentError error) {
        return error.fragments().stream().map(Fragment::origin).toList();
    }

    @Test
    void fragmentsMergeIntoOneConfigWithTheBaseFileFirst() throws Exception {
        // given a base file with defaults and two ConfigMap keys, one of them wrapped in wharf { }
        Fragment redis = cm("apps", "redis", "redis.conf", listener("redis", 16379));
        Fragment pg = cm("db", "pg", "pg.conf", "wharf { " + listener("postgres", 15432) + " }");
        // when
        WharfConfig config = Fragments.merge(List.of(BASE, redis, pg));
        // then both listeners are there, and both inherit the base file's defaults
        assertEquals(List.of("postgres", "redis"), List.copyOf(config.listeners().keySet()));
        assertEquals(16379, config.listeners().get("redis").port());
        assertEquals(List.of("10.0.0.0/8"), config.listeners().get("postgres").allow().asStrings());
        assertEquals(0, config.admin().port());
    }

    @Test
    void aLaterFragmentOverridesAnEarlierOneKeyByKey() throws Exception {
        // given a ConfigMap that narrows the base file's default allow list
        Fragment narrower = cm("apps", "policy", "allow.conf", "defaults.allow = [\"192.168.0.0/16\"]");
        Fragment redis = cm("apps", "redis", "redis.conf", listener("redis", 16379));
        // when
        WharfConfig config = Fragments.merge(List.of(BASE, narrower, redis));
        // then
        assertEquals(List.of("192.168.0.0/16"), config.listeners().get("redis").allow().asStrings());
    }

    @Test
    void noFragmentsGiveTheReferenceConfigWithoutListeners() throws Exception {
        WharfConfig config = Fragments.merge(List.of());
        assertEquals(Map.of(), config.listeners());
        assertEquals(9901, config.admin().port());
    }

    @Test
    void aListenerNameInTwoFragmentsIsAnErrorOnBoth() {
        // given
        Fragment a = cm("apps", "a", "x.conf", listener("redis", 16379));
        Fragment b = cm("apps", "b", "y.conf", listener("redis", 16380));
        // when
        MergeException e = rejected(BASE, a, b);
        // then
        assertEquals(1, e.errors().size(), e.getMessage());
        FragmentError error = e.errors().get(0);
        assertEquals(List.of("apps/a:x.conf", "apps/b:y.conf"), origins(error));
        assertEquals("wharf.listeners.redis", error.error().path());
        assertEquals("listener defined by more than one fragment: apps/a:x.conf, apps/b:y.conf"
                + " (expected: each listener in exactly one ConfigMap key)", error.error().message());
    }

    @Test
    void aPortClaimedByTwoFragmentsIsAnErrorOnBoth() {
        // given the base file and a ConfigMap that both want port 16379
        Fragment base = Fragment.ofFile("base.conf", listener("cache", 16379));
        Fragment cm = cm("apps", "redis", "redis.conf", listener("redis", 16379));
        // when
        MergeException e = rejected(base, cm);
        // then
        assertEquals(1, e.errors().size(), e.getMessage());
        FragmentError error = e.errors().get(0);
        assertEquals(List.of("base.conf", "apps/redis:redis.conf"), origins(error));
        assertEquals("wharf.listeners.redis.port", error.error().path());
        assertEquals("16379 is already used by listener \"cache\" in base.conf (expected: a port no other listener"
                + " uses)", error.error().message());
    }

    @Test
    void onePortOnTwoDifferentHostsIsNoConflict() throws Exception {
        Fragment a = cm("apps", "a", "a.conf", "listeners.a { port = 16379, host = \"127.0.0.2\","
                + " upstream.endpoints = [\"127.0.0.1:6379\"] }");
        Fragment b = cm("apps", "b", "b.conf", "listeners.b { port = 16379, host = \"127.0.0.3\","
                + " upstream.endpoints = [\"127.0.0.1:6379\"] }");
        assertEquals(2, Fragments.merge(List.of(a, b)).listeners().size());
    }

    @Test
    void aBadValueIsTracedToTheFragmentThatSetIt() {
        // given
        Fragment good = cm("apps", "good", "good.conf", listener("good", 16379));
        Fragment bad = cm("apps", "bad", "bad.conf", "listeners.bad { port = 99999, allow = [\"10.0.0.0/33\"],"
                + " upstream.endpoints = [\"127.0.0.1:6379\"] }");
        // when
        MergeException e = rejected(BASE, good, bad);
        // then every error is reported, each on the bad fragment alone
        assertEquals(2, e.errors().size(), e.getMessage());
        for (FragmentError error : e.errors()) {
            assertEquals(List.of("apps/bad:bad.conf"), origins(error));
        }
        assertEquals("wharf.listeners.bad.port: 99999 (expected: 1-65535)", e.errors().get(0).error().toString());
        assertEquals("wharf.listeners.bad.allow[0]", e.errors().get(1).error().path());
        // and the log line says where it came from
        assertEquals("apps/bad:bad.conf wharf.listeners.bad.port", e.asConfigException().errors().get(0).path());
    }

    @Test
    void aMissingKeyIsTracedToTheFragmentOfItsListener() {
        Fragment bad = cm("apps", "bad", "bad.conf", "listeners.bad { port = 16379 }");
        MergeException e = rejected(BASE, bad);
        assertEquals(1, e.errors().size(), e.getMessage());
        assertEquals("wharf.listeners.bad.upstream", e.errors().get(0).error().path());
        assertEquals(List.of("apps/bad:bad.conf"), origins(e.errors().get(0)));
    }

    @Test
    void aBadDefaultIsTracedToTheLastFragmentThatSetIt() {
        Fragment override = cm("apps", "policy", "allow.conf", "defaults.allow = [\"nonsense\"]");
        MergeException e = rejected(BASE, override);
        assertEquals(List.of("apps/policy:allow.conf"), origins(e.errors().get(0)));
        assertEquals("wharf.defaults.allow[0]", e.errors().get(0).error().path());
    }

    @Test
    void anUnknownKeyIsTracedToItsFragment() {
        Fragment typo = cm("apps", "redis", "redis.conf", "listners.redis { port = 1 }");
        MergeException e = rejected(BASE, typo);
        assertEquals("wharf.listners", e.errors().get(0).error().path());
        assertEquals(List.of("apps/redis:redis.conf"), origins(e.errors().get(0)));
    }

    @Test
    void onlyTheBaseFileNamesTheNamespacesToWatch() throws Exception {
        Fragment base = Fragment.ofFile("/etc/wharf/base.conf", "kubernetes.namespaces = [\"apps\", \"data\"]");
        assertEquals(List.of("apps", "data"), Fragments.merge(List.of(base)).kubernetes().namespaces());

        Fragment sneaky = cm("apps", "redis", "redis.conf", "kubernetes.namespaces = [\"kube-system\"]");
        MergeException e = rejected(base, sneaky);
        assertEquals("wharf.kubernetes", e.errors().get(0).error().path());
        assertEquals("only the --config file may set this (a ConfigMap cannot change which namespaces are watched)",
                e.errors().get(0).error().message());
        assertEquals(List.of("apps/redis:redis.conf"), origins(e.errors().get(0)));
    }

    @Test
    void aSyntaxErrorNamesTheFragmentAndLine() {
        Fragment broken = cm("apps", "redis", "redis.conf", "listeners.redis {\n port = 1\n");
        MergeException e = rejected(BASE, broken);
        assertEquals(1, e.errors().size(), e.getMessage());
        assertEquals(List.of("apps/redis:redis.conf"), origins(e.errors().get(0)));
        assertTrue(e.errors().get(0).error().message().startsWith("apps/redis:redis.conf: "),
                e.errors().get(0).error().message());
    }

    @Test
    void configMapKeysBecomeFragmentsByNamespaceThenNameThenKey() {
        // given ConfigMaps listed in no particular order, with a key that is not a fragment
        List<ConfigMap> listed = List.of(
                configMap("zeta", "a", Map.of("b.conf", "x", "a.conf", "x")),
                configMap("alpha", "b", Map.of("notes.txt", "x", "z.conf", "x")),
                configMap("alpha", "a", Map.of("m.conf", "x")));
        // when
        List<String> order = ConfigMapSource.fragmentsOf(listed).stream().map(Fragment::origin).toList();
        // then
        assertEquals(List.of("alpha/a:m.conf", "alpha/b:z.conf", "zeta/a:a.conf", "zeta/a:b.conf"), order);
    }

    private static ConfigMap configMap(String namespace, String name, Map<String, String> data) {
        return new ConfigMapBuilder().withNewMetadata().withNamespace(namespace).withName(name).withUid(name)
                .withResourceVersion("7").endMetadata().withData(data).build();
    }
}
