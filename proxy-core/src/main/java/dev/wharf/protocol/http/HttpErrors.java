package dev.wharf.protocol.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Wharf's own answers, shaped like OpenSearch's errors so that its clients show them:
 * {@code {"error":{"type":"wharf_bad_gateway","reason":"..."},"status":502}}.
 */
enum HttpErrors {
    BAD_REQUEST(HttpResponseStatus.BAD_REQUEST, "wharf_bad_request"),
    URI_TOO_LONG(HttpResponseStatus.REQUEST_URI_TOO_LONG, "wharf_uri_too_long"),
    HEADERS_TOO_LARGE(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "wharf_request_header_fields_too_large"),
    METHOD_NOT_ALLOWED(HttpResponseStatus.METHOD_NOT_ALLOWED, "wharf_method_not_allowed"),
    BAD_GATEWAY(HttpResponseStatus.BAD_GATEWAY, "wharf_bad_gateway"),
    SERVICE_UNAVAILABLE(HttpResponseStatus.SERVICE_UNAVAILABLE, "wharf_service_unavailable"),
    GATEWAY_TIMEOUT(HttpResponseStatus.GATEWAY_TIMEOUT, "wharf_gateway_timeout");

    final HttpResponseStatus status;
    private final String type;

    HttpErrors(HttpResponseStatus status, String type) {
        this.status = status;
        this.type = type;
    }

    /** The response; {@code close} adds Connection: close. */
    FullHttpResponse response(ByteBufAllocator alloc, String reason, boolean close) {
        String json = "{\"error\":{\"type\":\"" + type + "\",\"reason\":\"" + escape(reason) + "\"},\"status\":"
                + status.code() + "}";
        byte[] bytes = json.getBytes(UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                alloc.buffer(bytes.length).writeBytes(bytes));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json; charset=UTF-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return response;
    }

    private static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                out.append('?');
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
