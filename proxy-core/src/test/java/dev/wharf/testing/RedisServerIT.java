package dev.wharf.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisConnectionException;

class RedisServerIT {

    @RegisterExtension
    static final RedisServer REDIS = new RedisServer();

    @Test
    void setThenGet() {
        try (Jedis jedis = REDIS.jedis()) {
            assertEquals("OK", jedis.set("wharf:berth", "7"));
            assertEquals("7", jedis.get("wharf:berth"));
        }
    }

    @Test
    void countsConnectionsWithoutCountingItsOwnReads() {
        long before = REDIS.statLong("total_connections_received");
        assertEquals(before, REDIS.statLong("total_connections_received"));
        for (int i = 0; i < 3; i++) {
            try (Jedis jedis = REDIS.jedis()) {
                jedis.ping();
            }
        }
        assertEquals(before + 3, REDIS.statLong("total_connections_received"));
    }

    @Test
    void killThenStartServesOnTheSamePort() {
        int port = REDIS.port();
        REDIS.kill();
        assertFalse(REDIS.isRunning());
        assertThrows(JedisConnectionException.class, () -> {
            try (Jedis jedis = REDIS.jedis()) {
                jedis.ping();
            }
        });

        REDIS.start();
        assertEquals(port, REDIS.port());
        try (Jedis jedis = REDIS.jedis()) {
            assertEquals("PONG", jedis.ping());
        }
    }
}
