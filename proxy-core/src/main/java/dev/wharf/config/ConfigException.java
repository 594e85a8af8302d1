package dev.wharf.config;

import java.util.List;
import java.util.stream.Collectors;

/** A config that cannot be applied, with every error found in it (not only the first). */
public final class ConfigException extends Exception {
    private final List<ConfigError> errors;

    public ConfigException(List<ConfigError> errors) {
        super(errors.stream().map(ConfigError::toString).collect(Collectors.joining("\n")));
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one error");
        }
        this.errors = List.copyOf(errors);
    }

    public ConfigException(String path, String message) {
        this(List.of(new ConfigError(path, message)));
    }

    public List<ConfigError> errors() {
        return errors;
    }
}
