package dev.wharf.config;

/** One problem in a config, with the HOCON path it was found at ({@code wharf.listeners.pg.allow[1]}). */
public record ConfigError(String path, String message) {
    @Override
    public String toString() {
        return path + ": " + message;
    }
}
