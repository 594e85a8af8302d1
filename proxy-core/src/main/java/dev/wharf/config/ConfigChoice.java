package dev.wharf.config;

import java.util.Locale;

/** An enum whose constants are chosen in HOCON by their names in lowercase, '_' written '-': IO_URING is io-uring. */
public interface ConfigChoice {
    String name();

    default String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
