package dev.wharf.bench.target;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;

/** The generated configs; that the peers accept them is {@link TargetsSmokeTest}'s job. */
class TargetConfigsTest {
    private static final ToIntFunction<Upstream> UPSTREAM_PORTS = u -> 7000 + u.ordinal();
    private static final Map<Upstream, Integer> LISTEN = new EnumMap<>(Map.of(Upstream.ECHO, 9000, Upstream.REDIS, 9001));
    private static final Path DIR = Path.of("/work/x");

    @Test
    void haproxyFitsTheFdLimitWithAndWithoutSplice() {
        assertEquals(9800, HaproxyTarget.maxconn(20_000));
        String plain = HaproxyTarget.config(UPSTREAM_PORTS, LISTEN, false, DIR, 20_000);
        String splice = HaproxyTarget.config(UPSTREAM_PORTS, LISTEN, true, DIR, 20_000);

        assertTrue(plain.contains("    maxconn 9800\n") && plain.contains("    nbthread " + Targets.THREADS + "\n"), plain);
        assertTrue(plain.contains("listen echo\n    bind 127.0.0.1:9000\n    server echo 127.0.0.1:7000\n"), plain);
        assertTrue(plain.contains("listen redis\n    bind 127.0.0.1:9001\n    server redis 127.0.0.1:7001\n"), plain);
        assertTrue(plain.contains("timeout client 1h") && plain.contains("no log"), plain);
        assertFalse(plain.contains("option splice") || plain.contains("\n    maxpipes"), plain);
        // 2 x 9800 + 2 x 168 + 64 = 20000
        assertTrue(splice.contains("    maxpipes 168\n"), splice);
        assertTrue(splice.contains("    option splice-request\n    option splice-response\n"), splice);
    }

    @Test
    void nginxKeepsItsFilesInTheWorkDir() {
        String conf = NginxTarget.config(UPSTREAM_PORTS, LISTEN, DIR, 20_000);
        assertTrue(conf.contains("pid /work/x/nginx.pid;") && conf.contains("error_log /work/x/error.log warn;"), conf);
        assertTrue(conf.contains("worker_rlimit_nofile 20000;") && conf.contains("worker_connections 19500;"), conf);
        assertTrue(conf.contains("load_module /usr/lib/nginx/modules/ngx_stream_module.so;"), conf);
        assertTrue(conf.contains("listen 127.0.0.1:9001;\n        proxy_pass 127.0.0.1:7001;"), conf);
        assertFalse(conf.contains("/var/"), conf);
    }

    @Test
    void wharfConfigHasOneListenerPerUpstream() {
        String conf = WharfTarget.config(UPSTREAM_PORTS, LISTEN, 9100);
        assertTrue(conf.contains("admin { host = \"127.0.0.1\", port = 9100 }"), conf);
        assertTrue(conf.contains("    echo { host = \"127.0.0.1\", port = 9000, upstream.endpoints = [\"127.0.0.1:7000\"] }\n"), conf);
        assertTrue(conf.contains("    redis { host = \"127.0.0.1\", port = 9001, upstream.endpoints = [\"127.0.0.1:7001\"] }\n"), conf);
        assertTrue(conf.contains("max-connections = 20000") && conf.contains("shutdown-delay = 0s"), conf);
    }

    @Test
    void wharfDirectMemoryIsTheSumOfTheDirectAllocatorSamples() {
        String metrics = """
                # HELP netty_allocator_memory_used \s
                # TYPE netty_allocator_memory_used gauge
                netty_allocator_memory_used{allocator_type="AdaptiveByteBufAllocator",id="1",memory_type="direct"} 393216.0
                netty_allocator_memory_used{allocator_type="AdaptiveByteBufAllocator",id="1",memory_type="heap"} 1000.0
                netty_allocator_memory_used{allocator_type="PooledByteBufAllocator",id="2",memory_type="direct"} 1.6777216E7
                netty_allocator_pooled_arenas{allocator_type="PooledByteBufAllocator",id="2",memory_type="direct"} 4.0
                """;
        assertEquals(393_216 + 16_777_216, WharfTarget.directMemory(metrics));
        assertEquals(-1, WharfTarget.directMemory("jvm_threads_live_threads 20.0\n"));
    }

    @Test
    void templatesRefuseAPlaceholderWithoutValue() {
        assertEquals("a 1 b", Template.render("a ${x} b", Map.of("x", 1)));
        assertThrows(IllegalArgumentException.class, () -> Template.render("a ${y}", Map.of("x", 1)));
    }

    @Test
    void unknownTargetNamesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Targets.startAll(null, DIR, (Path) null, java.util.List.of("direct", "envoy")));
        assertTrue(e.getMessage().contains("unknown target envoy; known: direct, wharf, haproxy, haproxy-splice, nginx, socat"),
                e.getMessage());
    }
}
