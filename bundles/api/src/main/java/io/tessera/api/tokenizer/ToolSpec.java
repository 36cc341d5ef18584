package io.tessera.api.tokenizer;

import java.util.Map;

/**
 * A function the model may call.
 *
 * @param name        function name
 * @param description what it does
 * @param parameters  its JSON schema as parsed JSON (maps, lists, strings, numbers, booleans)
 */
public record ToolSpec(String name, String description, Map<String, Object> parameters) {
}
