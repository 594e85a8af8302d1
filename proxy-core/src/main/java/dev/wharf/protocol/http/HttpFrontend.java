package dev.wharf.protocol.http;

import dev.wharf.config.HttpSettings;
import dev.wharf.config.ListenerConfig;
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
    private volatile Credentials current = Credentials.NONE;
    private volatile Credentials previous = Credentials.NONE;

    @Override
    public void start(ListenerState listener, Channel client, InetSocketAddress source, InetSocketAddress proxy,
                      ByteBuf early, boolean eof) {
        new HttpSession(listener, this, client, source, proxy).start(early, eof);
    }

    UpstreamConnections connections() {
        return connections;
    }

    /**
     * A config is in force (or about to be): open the authorization-file it names. Called off the
     * event loops, before the listener's sessions read the config. The previous file stays open
     * until the next change, for requests that read the config before this one.
     */
    @Override
    public synchronized void update(ListenerConfig config) {
        String file = config.http().authorizationFile();
        if (Objects.equals(file, current.file())) {
            return;
        }
        previous.close();
        previous = current;
        current = file == null ? Credentials.NONE : new Credentials(file, new BasicAuthorization(file));
    }

    /** The Authorization value for {@code settings}' file; null when it was never readable. Event loops: reads only. */
    String authorization(HttpSettings settings) {
        String file = settings.authorizationFile();
        Credentials now = current;
        Credentials before = previous;
        return file.equals(now.file()) ? now.authorization().header()
                : file.equals(before.file()) ? before.authorization().header() : null;
    }

    /** An authorization-file and what it holds; NONE for no file. */
    private record Credentials(String file, BasicAuthorization authorization) {
        static final Credentials NONE = new Credentials(null, null);

        void close() {
            if (authorization != null) {
                authorization.close();
            }
        }
    }

    /** The listener is gone: its idle upstream connections close. */
    @Override
    public synchronized void close() {
        connections.close();
        current.close();
        previous.close();
    }
}
