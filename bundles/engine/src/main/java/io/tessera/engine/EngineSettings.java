package io.tessera.engine;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Engine configuration (PID {@code io.tessera.engine}), e.g. {@code distribution/conf/io.tessera.engine.cfg}: the
 * metatype operators see. The engine reads the raw properties through {@link EngineConfig#parse}, so that a bad
 * value is reported and not applied instead of failing the component.
 */
@ObjectClassDefinition(name = "Tessera engine", description = "Batching, KV sizing, request limits and backend "
        + "preference of loaded models")
@interface EngineSettings {
    @AttributeDefinition(description = "Most rows (tokens) in one step: the prefill chunk and decode batch size "
            + "(models loaded afterwards)")
    int maxRows() default 64;

    @AttributeDefinition(description = "Most sequences that run at once per model; they reserve no KV beyond the "
            + "sliding-window rings (models loaded afterwards)")
    int sequences() default 4;

    @AttributeDefinition(description = "Positions one sequence may reach; 0: the model's max_position_embeddings. "
            + "Capped by the KV budget (models loaded afterwards)")
    int contextLength() default 0;

    @AttributeDefinition(description = "Requests that may wait per model before new ones are refused (models loaded "
            + "afterwards)")
    int queueLimit() default 64;

    @AttributeDefinition(description = "Seconds requests wait for a missing component before they fail (at once)")
    int waitSeconds() default 60;

    @AttributeDefinition(description = "Preferred backend, e.g. cpu; empty: the highest-ranked (at once: models "
            + "move to it)")
    String backend() default "";

    @AttributeDefinition(description = "Speculative decoding for requests that do not set a draft count: adaptive "
            + "(the draft policy chooses per sequence and step from measured costs and acceptance), off, or a fixed "
            + "draft count 1-3 (at once, for new requests)")
    String speculation() default "adaptive";

    @AttributeDefinition(description = "KV memory per model in MiB: the sliding-window rings of every sequence, "
            + "then blocks of the global-attention layers that sequences and the prefix cache share (models loaded "
            + "afterwards)")
    int kvBudgetMiB() default 128;

    @AttributeDefinition(description = "Positions per KV block of the global-attention layers (models loaded "
            + "afterwards)")
    int kvBlockTokens() default 32;

    @AttributeDefinition(description = "Reuse the KV of cached prompt prefixes (full blocks, keyed by their tokens "
            + "and the request's cache_salt); false: every prompt is prefilled whole (models loaded afterwards)")
    boolean prefixCache() default true;
}
