package dev.wharf.it;

import dev.wharf.testing.LoopbackPorts;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/** Client sockets for tests: bound to a chosen source address, with a read timeout. */
public final class Clients {
    private Clients() {
    }

    /** Connects to {@code host:port} from {@code source} (e.g. 127.0.0.2 or ::1). */
    public static Socket connect(String source, String host, int port) throws IOException {
        Socket socket = new Socket();
        socket.setSoTimeout(10_000);
        socket.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
        socket.connect(new InetSocketAddress(InetAddress.getByName(host), port), 5_000);
        return socket;
    }

    public static Socket connect(int port) throws IOException {
        return connect("127.0.0.1", "127.0.0.1", port);
    }

    /**
     * True if the peer closed the connection (EOF or reset) before sending anything; false if it
     * sent a byte, or kept the connection open for the socket's read timeout.
     */
    public static boolean closedByPeer(Socket socket) {
        try {
            InputStream in = socket.getInputStream();
            return in.read() == -1;
        } catch (java.net.SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /**
     * A port nothing listens on right now, below the ephemeral range: a port from
     * {@code new ServerSocket(0)} can become some outgoing connection's local port (Wharf's own
     * upstream connections, pooled and kept open) before the listener that was given it binds.
     */
    public static int freePort() throws IOException {
        return LoopbackPorts.free();
    }
}
