package dev.wharf.protocol;

/**
 * Bytes that break the listener's protocol (a malformed or oversized frame, a reply that matches
 * no request). Thrown by the protocol decoders; the session is closed with reason
 * {@code protocol_error} and the message is logged, naming the listener and the side.
 */
public final class ProtocolViolation extends RuntimeException {
    public ProtocolViolation(String message) {
        super(message, null, false, false);
    }

    public ProtocolViolation(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
