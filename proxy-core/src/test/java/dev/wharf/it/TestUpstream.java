package dev.wharf.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small blocking TCP server on 127.0.0.1 that runs {@code handler} for each connection on its
 * own thread. Plain JDK sockets, so nothing it does shows up in Netty's allocator metrics.
 */
public final class TestUpstream implements AutoCloseable {
    /** What the upstream does with one accepted connection. */
    public interface Handler {
        void handle(Socket socket) throws IOException, InterruptedException;
    }

    private final ServerSocket server;
    private final AtomicInteger accepted = new AtomicInteger();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final Thread acceptor;
    private final List<Throwable> errors = new CopyOnWriteArrayList<>();

    private TestUpstream(InetSocketAddress bind, Handler handler) throws IOException {
        server = new ServerSocket();
        server.bind(bind, 512);
        acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    accepted.incrementAndGet();
                    open.add(socket);
                    Thread worker = new Thread(() -> {
                        try (socket) {
                            handler.handle(socket);
                        } catch (IOException | InterruptedException e) {
                            // Usually the peer went away or the test is over; kept for tests that care.
                            errors.add(e);
                        } finally {
                            open.remove(socket);
                        }
                    }, "test-upstream-conn");
                    worker.setDaemon(true);
                    worker.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "test-upstream-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static TestUpstream start(Handler handler) throws IOException {
        return new TestUpstream(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), handler);
    }

    /** Echoes every byte back; half-closes its output when the client half-closes. */
    public static TestUpstream echo() throws IOException {
        return start(TestUpstream::echo);
    }

    /** An echo server on {@code host:port}, such as 127.0.0.2, for tests that need a given address. */
    public static TestUpstream echoOn(String host, int port) throws IOException {
        return new TestUpstream(new InetSocketAddress(host, port), TestUpstream::echo);
    }

    private static void echo(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream();
        in.transferTo(out);
        socket.shutdownOutput();
    }

    public int port() {
        return server.getLocalPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    /** Connections accepted so far. */
    public int accepted() {
        return accepted.get();
    }

    /** What the per-connection handlers threw, in order. */
    public List<Throwable> errors() {
        return errors;
    }

    /** Connections open now. */
    public int open() {
        return open.size();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : open) {
            socket.close();
        }
    }
}
