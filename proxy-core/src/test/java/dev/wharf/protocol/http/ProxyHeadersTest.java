package dev.wharf.protocol.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProxyHeadersTest {

    @Test
    void hopByHopFieldsAndTheFieldsConnectionNamesAreRemoved() {
        // given
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("Connection", "keep-alive, X-Private").add("X-Private", "1").add("Keep-Alive", "timeout=5")
                .add("TE", "trailers").add("Trailer", "X-Sum").add("Upgrade", "h2c").add("Proxy-Authorization", "x")
                .add("Proxy-Connection", "keep-alive").add("Transfer-Encoding", "chunked").add("Content-Type", "a/b");

        // when
        ProxyHeaders.stripHopByHop(headers);

        // then: Transfer-Encoding stays, for the next hop's codec to frame the body with
        assertEquals(Set.of("Transfer-Encoding", "Content-Type"), headers.names());
    }

    @Test
    void forwardedFieldsAreAppendedWithIpv6Quoted() {
        // given
        HttpHeaders headers = new DefaultHttpHeaders().add("X-Forwarded-For", "10.0.0.1").add("Forwarded", "for=10.0.0.1");

        // when
        ProxyHeaders.addForwarded(headers, new InetSocketAddress("::1", 5000));

        // then
        assertEquals("10.0.0.1, 0:0:0:0:0:0:0:1", headers.get("X-Forwarded-For"));
        assertEquals("for=10.0.0.1, for=\"[0:0:0:0:0:0:0:1]\";proto=http", headers.get("Forwarded"));
        assertFalse(headers.getAll("X-Forwarded-For").size() > 1);
    }

    @Test
    void loggedPathsHaveNoQueryNorFragment() {
        assertEquals("/idx/_search", HttpSession.path("/idx/_search?q=password:hunter2"));
        assertEquals("/a", HttpSession.path("/a#frag?x"));
        assertEquals("/a?b", HttpSession.path("/a\u0001b"));
    }
}
