package io.tessera.api.model;

import io.tessera.api.grammar.Grammar;
import java.util.Map;

/**
 * What a generation's tokens are held to, beyond its sampling parameters (structured outputs).
 *
 * @param grammar   constrains the output (each sequence gets its own matcher; the request's stop tokens are
 *                  allowed where the grammar is complete), or null
 * @param logitBias added to the logits of the given ids before sampling (OpenAI's logit_bias), may be empty
 */
public record OutputConstraint(Grammar grammar, Map<Integer, Float> logitBias) {
    public static final OutputConstraint NONE = new OutputConstraint(null, Map.of());

    public OutputConstraint {
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
    }
}
