package dev.wharf.config;

/** Config objects for unit tests, read by the real parser so that they carry reference.conf's defaults. */
public final class TestConfigs {
    private TestConfigs() {
    }

    /** The upstream of a listener whose {@code upstream { ... }} body is {@code body}. */
    public static UpstreamConfig upstream(String body) {
        try {
            return ConfigParser.parse("wharf.listeners.test { port = 1, upstream { " + body + " } }", "test")
                    .listeners().get("test").upstream();
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
