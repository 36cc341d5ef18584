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

    @AttributeDefinition(description = "Sequences that run at once per model (KV slots; models loaded afterwards)")
    int sequences() default 4;

    @AttributeDefinition(description = "Context length KV is sized for, capped by max_position_embeddings (models "
            + "loaded afterwards)")
    int contextLength() default 4096;

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
}
