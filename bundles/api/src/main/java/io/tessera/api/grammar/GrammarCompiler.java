package io.tessera.api.grammar;

import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.List;
import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Compiles output constraints into {@link Grammar}s over a tokenizer's vocabulary (an OSGi service). Schemas are
 * parsed JSON (maps, lists, strings, numbers, booleans). With {@code thinking}, the grammar first allows free
 * text up to and including {@code </think>}, then the constrained output.
 */
@ProviderType
public interface GrammarCompiler {

    /** Any JSON object (OpenAI's {@code response_format: json_object}). */
    Grammar jsonObject(Tokenizer tokenizer, boolean thinking);

    /**
     * A JSON value valid against {@code schema}.
     *
     * @throws GrammarException naming the keyword, for an unsupported or invalid schema or one past the bounds
     */
    Grammar jsonSchema(Map<String, ?> schema, Tokenizer tokenizer, boolean thinking);

    /**
     * A call of one of {@code tools} in MiMo's XML format ({@code <tool_call>}, {@code <function=NAME>},
     * {@code <parameter=NAME>value</parameter>}), each value constrained by its parameter's schema; with
     * {@code parallel}, one or more calls.
     *
     * @throws GrammarException naming the tool and keyword, for a schema the compiler cannot constrain
     */
    Grammar toolCalls(List<ToolSpec> tools, boolean parallel, Tokenizer tokenizer, boolean thinking);
}
