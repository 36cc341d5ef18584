package io.tessera.engine;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Engine configuration (PID {@code io.tessera.engine}), e.g. {@code distribution/conf/io.tessera.engine.cfg}. */
@ObjectClassDefinition(name = "Tessera engine", description = "Batching and KV sizing of loaded models")
@interface EngineSettings {
    @AttributeDefinition(description = "Most rows (tokens) in one step: the prefill chunk and decode batch size")
    int maxRows() default 64;

    @AttributeDefinition(description = "Sequences that run at once per model (KV slots)")
    int sequences() default 4;

    @AttributeDefinition(description = "Context length KV is sized for (capped by max_position_embeddings)")
    int contextLength() default 4096;

    @AttributeDefinition(description = "Requests that may wait per model before new ones are refused")
    int queueLimit() default 64;
}
