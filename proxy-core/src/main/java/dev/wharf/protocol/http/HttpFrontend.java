package dev.wharf.protocol.http;

import dev.wharf.config.HttpSettings;
import dev.wharf.relay.Frontend;
import dev.wharf.relay.ListenerState;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * The http protocol mode of one listener: each admitted connection becomes an {@link HttpSession},
 * and all of them share the listener's idle upstream connections and its authorization file.
 */
public final class HttpFrontend implements Frontend, AutoCloseable {
    private final UpstreamConnections connections = new UpstreamConnections();
    private volatile String authorizationFile;
    private volatile BasicAuthorization authorization;

    @Override
    public void start(ListenerState listener, Channel client, InetSocketAddress source, InetSocketAddress proxy,
                      ByteBuf early, boolean eof) {
        new HttpSession(listener, this, client, source, proxy).start(early, eof);
    }

    UpstreamConnections connections() {
        return connections;
    }

    /** The Authorization value for {@code settings}, null when it sets no file; throws if the file was never readable. */
    String authorization(HttpSettings settings) {
        String file = settings.authorizationFile();
        if (file == null) {
            return null;
        }
        BasicAuthorization current = authorization;
        if (current == null || !Objects.equals(file, authorizationFile)) {
            // A reload named another file.
            synchronized (this) {
                if (authorization == null || !Objects.equals(file, authorizationFile)) {
                    authorization = new BasicAuthorization(file);
                    authorizationFile = file;
                }
                current = authorization;
            }
        }
        return current.header();
    }

    /** The listener is gone: its idle upstream connections close. */
    @Override
    public void close() {
        connections.close();
    }
}
