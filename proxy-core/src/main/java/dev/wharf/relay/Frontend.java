package dev.wharf.relay;

import dev.wharf.config.ListenerConfig;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;

/**
 * What takes an admitted connection instead of a byte relay {@link Session} (the http protocol
 * mode). It owns the connection from then on, and counts it through {@link ListenerState#track}
 * (live sessions, the limiter slot, the idle timeout), as a byte {@link Session} does.
 */
public interface Frontend extends AutoCloseable {
    /**
     * Runs on the client's event loop. {@code early} (or null) holds bytes that came right behind a
     * PROXY header; {@code eof} says the client already shut down its side.
     */
    void start(ListenerState listener, Channel client, InetSocketAddress source, InetSocketAddress proxy,
               ByteBuf early, boolean eof);

    /**
     * {@code config} is going into force for this listener: take what it changes. Called off the
     * event loops, before the listener's sessions see the config, and once before the first session.
     */
    default void update(ListenerConfig config) {
    }

    /** The listener is gone and its sessions have ended: release what the front-end keeps. */
    @Override
    void close();
}
