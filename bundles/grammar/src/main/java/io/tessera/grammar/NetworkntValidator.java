package io.tessera.grammar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaException;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.tessera.api.grammar.SchemaValidator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Component;

/**
 * JSON Schema validation by networknt json-schema-validator (draft 2020-12, format assertions on). Schemas are
 * validated offline: {@code $schema} and {@code $id} are dropped and a reference that is not local is refused,
 * so the validator never fetches anything. Compiled schemas are kept for the last {@value #CACHED} schemas.
 */
@Component(service = SchemaValidator.class)
public final class NetworkntValidator implements SchemaValidator {
    static final int CACHED = 64;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    private final SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true)
            .build();
    private final Map<JsonNode, JsonSchema> schemas = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<JsonNode, JsonSchema> eldest) {
            return size() > CACHED;
        }
    };

    @Override
    public List<String> validate(Object value, Map<String, ?> schema) {
        JsonSchema compiled = compiled(JSON.valueToTree(schema));
        return compiled.validate(JSON.valueToTree(value)).stream().map(ValidationMessage::getMessage).sorted()
                .toList();
    }

    private synchronized JsonSchema compiled(JsonNode schema) {
        JsonSchema compiled = schemas.get(schema);
        if (compiled == null) {
            JsonNode offline = schema.deepCopy();
            offline(offline);
            try {
                compiled = factory.getSchema(offline, config);
                compiled.initializeValidators();
            } catch (JsonSchemaException e) {
                throw new IllegalArgumentException("invalid schema: " + e.getMessage(), e);
            }
            schemas.put(schema, compiled);
        }
        return compiled;
    }

    /** Drops {@code $schema} / {@code $id} everywhere and refuses references that are not local. */
    private static void offline(JsonNode node) {
        if (node instanceof ObjectNode object) {
            object.remove("$schema");
            object.remove("$id");
            JsonNode ref = object.get("$ref");
            if (ref != null && !(ref.isTextual() && ref.asText().startsWith("#"))) {
                throw new IllegalArgumentException("only local $ref (#...) is supported, got " + ref);
            }
        }
        node.forEach(NetworkntValidator::offline);
    }
}
