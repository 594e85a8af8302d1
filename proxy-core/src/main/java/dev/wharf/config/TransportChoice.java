package dev.wharf.config;

/** Which socket implementation to run on; {@code auto} is epoll where it loads, else NIO. */
public enum TransportChoice {
    AUTO("auto"),
    EPOLL("epoll"),
    IO_URING("io-uring"),
    NIO("nio");

    private final String configName;

    TransportChoice(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }
}
