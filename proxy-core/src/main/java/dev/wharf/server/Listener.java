package dev.wharf.server;

import dev.wharf.config.ConfigException;
import dev.wharf.config.ListenerConfig;
import dev.wharf.relay.AdmissionHandler;
import dev.wharf.relay.CloseReason;
import dev.wharf.relay.ListenerState;
import dev.wharf.relay.RelayOptions;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bound listening socket and the {@link ListenerState} its connections use; for a protocol
 * listener, also its {@link NodePorts}.
 */
final class Listener {
    private static final Logger LOG = LoggerFactory.getLogger(Listener.class);

    final ListenerState state;
    private final NodePorts nodePorts;
    private Channel serverChannel;

    Listener(ListenerState state, NodePorts nodePorts) {
        this.state = state;
        this.nodePorts = nodePorts;
    }

    /** Binds the socket, then the node ports; blocks, so call it off the event loops. */
    void bind(EventLoopGroup group, Transport transport) throws ConfigException {
        ListenerConfig config = state.config();
        serverChannel = bindSocket(state, config.port(), "wharf.listeners." + config.name() + ".port", group, transport);
        LOG.atInfo().addKeyValue("listener", config.name()).addKeyValue("address", hostPort(config.host(), config.port()))
                .addKeyValue("protocol", config.protocol().configName())
                .addKeyValue("upstreams", config.upstream().endpoints().size())
                .log("listening on {}", hostPort(config.host(), config.port()));
        if (nodePorts != null) {
            try {
                nodePorts.start();
            } catch (ConfigException e) {
                stopAccepting();
                throw e;
            }
        }
    }

    /**
     * Binds {@code port} on the listener's host for connections that {@code state} admits and
     * relays; blocks. {@code path} names the setting that asked for the port, for the error.
     */
    static Channel bindSocket(ListenerState state, int port, String path, EventLoopGroup group, Transport transport)
            throws ConfigException {
        String host = state.config().host();
        ChannelFuture bound = RelayOptions.onAccepted(new ServerBootstrap())
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new AdmissionHandler(state))
                .bind(host, port)
                .awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new ConfigException(path, "cannot listen on " + hostPort(host, port) + ": " + bound.cause().getMessage());
        }
        return bound.channel();
    }

    /** Stops accepting new connections, on the node ports too; live sessions go on. */
    void stopAccepting() {
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly();
            serverChannel = null;
        }
        if (nodePorts != null) {
            nodePorts.stop();
        }
    }

    /** The node ports, or null for a listener without them. */
    NodePorts nodePorts() {
        return nodePorts;
    }

    boolean bound() {
        return serverChannel != null && serverChannel.isActive();
    }

    int boundPort() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /**
     * Waits up to {@code timeout} for the live sessions to end on their own, then closes the rest.
     * Blocks, so call it off the event loops.
     */
    void drain(Duration timeout, CloseReason reasonForTheRest) {
        state.drainSessions();
        if (!awaitNoSessions(timeout)) {
            LOG.atInfo().addKeyValue("listener", state.name()).addKeyValue("sessions", state.sessions().size())
                    .log("drain timeout reached, closing the remaining sessions");
            closeRemaining(reasonForTheRest);
        }
        state.pool().close();
        state.closeFrontend();
    }

    /**
     * Closes every live session with {@code reason} and waits briefly until they have ended, so
     * that an event-loop shutdown right after cannot close them first under another name.
     */
    void closeRemaining(CloseReason reason) {
        state.closeSessions(reason);
        if (!awaitNoSessions(Duration.ofSeconds(5))) {
            LOG.warn("listener {}: {} session(s) still open 5 s after being closed", state.name(), state.sessions().size());
        }
    }

    private boolean awaitNoSessions(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!state.sessions().isEmpty() && System.nanoTime() < deadline) {
            sleep(20);
        }
        return state.sessions().isEmpty();
    }

    private static void sleep(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String hostPort(String host, int port) {
        return NetUtil.toSocketAddressString(host, port);
    }
}
