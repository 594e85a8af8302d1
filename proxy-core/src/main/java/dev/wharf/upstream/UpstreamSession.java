package dev.wharf.upstream;

/** A live session on an endpoint, which the pool ends when the endpoint is marked down with close-sessions. */
public interface UpstreamSession {
    /** Called on a health-check thread: closes the session if it is still on {@code endpoint}. */
    void endpointDown(EndpointState endpoint);
}
