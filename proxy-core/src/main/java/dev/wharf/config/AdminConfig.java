package dev.wharf.config;

/** The admin HTTP server: health, readiness, metrics, config and upstream views. */
public record AdminConfig(String host, int port) {
}
