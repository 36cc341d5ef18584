package io.tessera.api.grammar;

import java.util.List;
import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/** JSON Schema (draft 2020-12) validation of parsed JSON values (an OSGi service). */
@ProviderType
public interface SchemaValidator {

    /**
     * The validation errors of {@code value} (parsed JSON: maps, lists, strings, numbers, booleans, null)
     * against {@code schema}; empty when it validates.
     *
     * @throws IllegalArgumentException when the schema itself is invalid
     */
    List<String> validate(Object value, Map<String, ?> schema);
}
