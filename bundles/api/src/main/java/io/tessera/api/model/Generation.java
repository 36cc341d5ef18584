package io.tessera.api.model;

import java.util.concurrent.CompletionStage;

/** A running generation. */
public interface Generation {
    /** Stops it at the next step boundary and frees its KV; the result ends with {@code CANCELLED}. */
    void cancel();

    CompletionStage<GenerationResult> result();
}
