package dev.wharf.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Ports for the second listener of a server whose first port {@link ChildProcess} picks. */
final class LoopbackPorts {

    private LoopbackPorts() {
    }

    /** A port nothing listens on right now on 127.0.0.1. */
    static int free() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(ChildProcess.HOST))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
