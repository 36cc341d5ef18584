package io.tessera.api.tokenizer;

import java.util.Map;

/**
 * A parsed tool call.
 *
 * @param id        call id (assigned by the serving layer; may be null when parsed)
 * @param name      function name
 * @param arguments arguments typed by the tool's JSON schema (strings, numbers, booleans, maps, lists)
 * @param error     null when the call validates against the tool's schema; otherwise why it does not
 */
public record ToolCall(String id, String name, Map<String, Object> arguments, String error) {
}
