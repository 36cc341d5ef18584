package io.tessera.http;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request the API refuses, answered in OpenAI's error shape:
 * {@code {"error": {"message", "type", "param", "code"}}}.
 */
final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;
    final String type;
    final String param;
    final String code;
    final int retryAfterSeconds;   // sent as Retry-After when > 0

    ApiException(int status, String type, String param, String code, String message) {
        this(status, type, param, code, message, 0);
    }

    ApiException(int status, String type, String param, String code, String message, int retryAfterSeconds) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** The answer's body: {@code {"error": {"message", "type", "param", "code"}}}. */
    ObjectNode body() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        ObjectNode error = o.putObject("error");
        error.put("message", getMessage());
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return o;
    }

    /** 503: the server cannot take the request now (shutting down, model failed); try again after a while. */
    static ApiException unavailable(String message, int retryAfterSeconds) {
        return new ApiException(503, "server_error", null, "service_unavailable", message, retryAfterSeconds);
    }

    /** 400 invalid_request_error naming the parameter at fault. */
    static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, null, message);
    }
}
