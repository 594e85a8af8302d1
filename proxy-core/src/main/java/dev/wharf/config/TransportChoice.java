package dev.wharf.config;

/** Which socket implementation to run on; {@code auto} is io_uring where it loads, else NIO. */
public enum TransportChoice implements ConfigChoice {
    AUTO,
    EPOLL,
    IO_URING,
    NIO
}
