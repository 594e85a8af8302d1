package dev.wharf.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.wharf.testing.RedisServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;

/** A real Redis behind Wharf, driven by Jedis. */
class RedisRelayIT {
    @RegisterExtension
    static final RedisServer REDIS = new RedisServer();

    static TestWharf wharf;

    @BeforeAll
    static void startWharf() throws Exception {
        wharf = TestWharf.start(RelayIT.listener("redis", Clients.freePort(), "", "127.0.0.1:" + REDIS.port()));
    }

    @AfterAll
    static void stopWharf() {
        wharf.close();
    }

    private static Jedis client() {
        return new Jedis("127.0.0.1", wharf.port("redis"));
    }

    @Test
    void setAndGetOneMegabyteValues() {
        Random random = new Random(1);
        try (Jedis jedis = client()) {
            for (int i = 0; i < 5; i++) {
                byte[] value = new byte[1 << 20];
                random.nextBytes(value);
                byte[] key = ("big:" + i).getBytes();
                assertEquals("OK", jedis.set(key, value));
                assertArrayEquals(value, jedis.get(key));
            }
        }
    }

    @Test
    void aPipelineOfTenThousandCommandsAnswersInOrder() {
        try (Jedis jedis = client()) {
            Pipeline pipeline = jedis.pipelined();
            List<Response<Long>> replies = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) {
                replies.add(pipeline.incrBy("counter:pipeline", i));
            }
            pipeline.sync();
            long expected = 0;
            for (int i = 0; i < 10_000; i++) {
                expected += i;
                assertEquals(expected, replies.get(i).get(), "reply " + i);
            }
        }
    }
}
