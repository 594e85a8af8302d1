package dev.wharf.config;

/**
 * How the process runs its I/O; read once at start.
 *
 * @param eventLoops relay event-loop threads; 0 means one per available core
 */
public record RuntimeConfig(TransportChoice transport, int eventLoops) {
    public int eventLoopThreads() {
        return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
    }
}
