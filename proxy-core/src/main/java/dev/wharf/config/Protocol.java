package dev.wharf.config;

/** What a listener understands of the bytes it relays. */
public enum Protocol implements ConfigChoice {
    TCP
}
